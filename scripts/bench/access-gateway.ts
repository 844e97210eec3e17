// The gateway under the access bench (see access.ts): spawned, provisioned, connected to, measured.

import 'reflect-metadata'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes, randomUUID } from 'node:crypto'
import mqtt from 'mqtt'
import { loadConfig } from '../../src/config/loader.js'
import { createLogger } from '../../src/log.js'
import { openDatabase } from '../../src/persistence/database.js'
import { createRepositories } from '../../src/persistence/repositories/index.js'
import { hashSecret } from '../../src/auth/passwords.js'
import { packageRoot } from '../../src/paths.js'

const TICK_US = 1e6 / 100 // USER_HZ is 100 on Linux

interface Proc { child: ChildProcess, mqttPort: number, httpPort?: number, stop: () => Promise<void> }

export function cpuUs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_US // utime + stime
}

export async function spawnUntil (args: string[], env: Record<string, string>, msg: string): Promise<Proc> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      for (const line of buf.split('\n')) {
        try {
          const o = JSON.parse(line)
          if (o.msg === msg) {
            child.stdout?.removeAllListeners('data')
            child.stdout?.resume()
            resolve({
              child,
              mqttPort: o.mqttPort,
              httpPort: o.httpPort,
              stop: async () => { child.kill('SIGTERM'); await new Promise(resolve => child.once('exit', resolve)) }
            })
          }
        } catch {}
      }
    })
    child.once('exit', code => reject(new Error(`${args.join(' ')} exited ${String(code)}`)))
  })
}

export async function startGateway (dataDir: string, extra: Record<string, string> = {}): Promise<Proc> {
  return await spawnUntil(
    [join(packageRoot, 'dist', 'src', 'main.js'), 'start'],
    {
      AUTOCORE_DATA_DIR: dataDir,
      AUTOCORE_MQTT_PORT: '0',
      AUTOCORE_HTTP_PORT: '0',
      AUTOCORE_MQTT_HOST: '127.0.0.1',
      AUTOCORE_HTTP_HOST: '127.0.0.1',
      AUTOCORE_LOG_LEVEL: 'info',
      ...extra
    },
    'gateway started'
  )
}

/** Provisions devices and a viewer straight in the data dir's database, before the gateway starts. */
export async function provision (
  dataDir: string,
  devices: number
): Promise<{ devices: Array<{ uuid: string, secret: string }>, viewer: { username: string, password: string } }> {
  const config = loadConfig({ env: {}, overrides: { dataDir } })
  const db = await openDatabase(config, createLogger({ log: { level: 'warn', pretty: 'never' } }))
  const repos = createRepositories(db)
  const out = []
  for (let i = 0; i < devices; i++) {
    const uuid = randomUUID()
    const secret = randomBytes(18).toString('base64url')
    await repos.devices.create(
      { uuid, name: `bench ${i}`, type: 'sensor', secretHash: await hashSecret(secret) },
      Date.now()
    )
    out.push({ uuid, secret })
  }
  const viewer = { username: 'bench-viewer', password: randomBytes(12).toString('base64url') }
  await repos.users.create(
    { username: viewer.username, role: 'viewer', passwordHash: await hashSecret(viewer.password) },
    Date.now()
  )
  await db.close()
  return { devices: out, viewer }
}

export async function timedConnect (port: number, dev: { uuid: string, secret: string }): Promise<number> {
  const t0 = performance.now()
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: dev.uuid,
    username: dev.uuid,
    password: dev.secret,
    reconnectPeriod: 0
  })
  const ms = performance.now() - t0
  await c.endAsync()
  return ms
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
export const p90 = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]
export const f1 = (x: number): string => x.toFixed(1)

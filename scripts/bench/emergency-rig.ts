// The emergency bench's rig (see emergency.ts): its sizes, the gateway child, the simulated relay boards.
import 'reflect-metadata'
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { Device, RelayChannel } from '../../entities/index.js'
import { loadConfig } from '../../src/config/loader.js'
import { packageRoot } from '../../src/paths.js'
import { openDatabase } from '../../src/persistence/database.js'
import { deviceSecret } from './credentials.js'

export const BOARDS = 200
export const TRIALS = 200
export const ROUND_TRIPS = 300
const ACTUATION_MS = 20
export const silent = pino({ level: 'silent' })

type Client = mqtt.MqttClient

export function pct (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

export const fmt = (xs: number[]): string =>
  `p50 ${pct(xs, 0.5).toFixed(2)} ms  p99 ${pct(xs, 0.99).toFixed(2)} ms  max ${pct(xs, 1).toFixed(2)} ms`

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}

/** Connects `ids` 20 at a time; with `secret`, each as the device of that uuid (client id = username = uuid). */
export async function connectMany (url: string, ids: string[], secret?: string): Promise<Client[]> {
  const out: Client[] = []
  for (let i = 0; i < ids.length; i += 20) {
    out.push(
      ...(await Promise.all(
        ids
          .slice(i, i + 20)
          .map(
            async id =>
              await mqtt.connectAsync(url, {
                clientId: id,
                reconnectPeriod: 0,
                ...(secret === undefined ? {} : { username: id, password: secret })
              })
          )
      ))
    )
  }
  return out
}

/** Relay boards with one channel each, all with one secret (returned), as `device add` would provision them. */
export async function seed (dataDir: string, uuids: string[]): Promise<string> {
  const { secret, secretHash } = await deviceSecret()
  const db = await openDatabase(loadConfig({ env: {}, overrides: { dataDir } }), silent)
  const now = Date.now()
  for (const uuid of uuids) {
    const r = await db.dataSource
      .getRepository(Device)
      .insert({ uuid, name: uuid, type: 'relay_board', secretHash, createdAt: now, updatedAt: now })
    await db.dataSource
      .getRepository(RelayChannel)
      .insert({ deviceId: r.identifiers[0].id as number, channelNumber: 1, name: 'main', updatedAt: now })
  }
  await db.close()
  return secret
}

/** The timings the gateway logs with each stop ('emergency stop' line), by field name. */
export type Inside = Record<'persistedMs' | 'publishedMs' | 'offCommandsMs', number[]>

export async function startGatewayProcess (
  dataDir: string
): Promise<{ child: ChildProcess, mqttPort: number, httpPort: number, inside: Inside }> {
  const inside: Inside = { persistedMs: [], publishedMs: [], offCommandsMs: [] }
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      join(packageRoot, 'dist', 'src', 'main.js'),
      'start'
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...(process.env.BENCH_MQTT_CONCURRENCY === undefined
          ? {}
          : { AUTOCORE_MQTT_CONCURRENCY: process.env.BENCH_MQTT_CONCURRENCY }),
        AUTOCORE_DATA_DIR: dataDir,
        AUTOCORE_MQTT_PORT: '0',
        AUTOCORE_HTTP_PORT: '0',
        AUTOCORE_MQTT_HOST: '127.0.0.1',
        AUTOCORE_HTTP_HOST: '127.0.0.1',
        AUTOCORE_LOG_PRETTY: 'never'
      },
      stdio: ['ignore', 'pipe', 'inherit']
    }
  )
  const { mqttPort, httpPort } = await new Promise<{ mqttPort: number, httpPort: number }>((resolve, reject) => {
    let buf = ''
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      const m = /"mqttPort":(\d+)/.exec(buf)
      const h = /"httpPort":(\d+)/.exec(buf)
      if (m !== null && h !== null) resolve({ mqttPort: Number(m[1]), httpPort: Number(h[1]) })
      const lines = buf.split('\n')
      buf = lines.pop() ?? ''
      for (const l of lines) {
        for (const [field, values] of Object.entries(inside)) {
          const m = new RegExp(`"${field}":([\\d.]+)`).exec(l)
          if (m !== null) values.push(Number(m[1]))
        }
      }
    })
    child.once('exit', code => reject(new Error(`gateway exited ${String(code)}`)))
  })
  return { child, mqttPort, httpPort, inside }
}

/**
 * A relay board: answers every command ok and reports its state, like the firmware, after a relay's actuation
 * time (ACTUATION_MS): 200 boards simulated in one process would otherwise spend the measuring process's CPU on
 * their answers while the later boards' off-commands still wait to be read.
 */
export function actAsBoard (
  client: Client, uuid: string, onOff: (uuid: string) => void, actuationMs = ACTUATION_MS
): void {
  client.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as { command_id: string, action?: string }
    if (body.action === 'off') onOff(uuid)
    if (actuationMs > 0) setTimeout(() => answer(client, uuid, topic, body), actuationMs)
    else answer(client, uuid, topic, body)
  })
}

function answer (client: Client, uuid: string, topic: string, body: { command_id: string, action?: string }): void {
  client.publish(`autocore/devices/${uuid}/response`, JSON.stringify({ command_id: body.command_id, status: 'ok' }), {
    qos: 1
  })
  if (topic.startsWith('autocore/relays/')) {
    client.publish(`autocore/relays/${uuid}/state`, JSON.stringify({ channels: { 1: body.action === 'on' } }), {
      qos: 1,
      retain: true
    })
  }
}

export async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const fail = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)
  })
  try {
    return await Promise.race([p, fail])
  } finally {
    clearTimeout(timer)
  }
}

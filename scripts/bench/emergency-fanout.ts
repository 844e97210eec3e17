// The emergency bench's reference points (see emergency.ts): a plain QoS 1 fan-out on Mosquitto and bare Aedes.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { performance } from 'node:perf_hooks'
import mqtt from 'mqtt'
import { packageRoot } from '../../src/paths.js'
import { BOARDS, TRIALS, freePort, connectMany, withTimeout } from './emergency-rig.js'

/**
 * A plain 1 → BOARDS fan-out of one QoS 1 message on the broker at `url`, TRIALS times: publish → last subscriber
 * has it.
 */
async function plainFanOut (url: string, prefix: string): Promise<number[]> {
  let up = false
  for (let i = 0; i < 50 && !up; i++) {
    up = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 }).then(
      c => {
        c.end(true)
        return true
      },
      () => false
    )
    if (!up) await new Promise(resolve => setTimeout(resolve, 100))
  }
  const subs = await connectMany(url, Array.from({ length: BOARDS }, (_, i) => `${prefix}-sub-${i}`))
  let count = 0
  let lastAt = 0
  let wake: () => void = () => {}
  for (const s of subs) {
    s.on('message', () => { count++; lastAt = performance.now(); if (count === BOARDS) wake() })
  }
  await Promise.all(subs.map(async s => await s.subscribeAsync('bench/fanout', { qos: 1 })))
  const pub = await mqtt.connectAsync(url, { clientId: `${prefix}-pub`, reconnectPeriod: 0 })
  const latencies: number[] = []
  try {
    for (let i = 0; i < TRIALS + 5; i++) {
      count = 0
      const all = new Promise<void>(resolve => { wake = resolve })
      const t0 = performance.now()
      pub.publish('bench/fanout', JSON.stringify({ reason: `bench ${i}` }), { qos: 1 })
      await withTimeout(all, 10000, `${prefix} fan-out`)
      if (i >= 5) latencies.push(lastAt - t0)
      await new Promise(resolve => setTimeout(resolve, 40))
    }
  } finally {
    for (const c of [...subs, pub]) c.end(true)
  }
  return latencies
}

export async function benchMosquitto (): Promise<number[] | string> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'autocore-mosq-'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`)
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' })
  const spawned = await new Promise<boolean>(resolve => {
    child.once('spawn', () => resolve(true))
    child.once('error', () => resolve(false))
  })
  if (!spawned) return 'mosquitto not available (/usr/sbin/mosquitto)'
  try {
    return await plainFanOut(`mqtt://127.0.0.1:${port}`, 'mosq')
  } finally {
    child.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The same plain fan-out on bare Aedes (no hooks, in-memory persistence): what the broker library alone costs. */
export async function benchBareAedes (): Promise<number[]> {
  const child = spawn(process.execPath, [join(packageRoot, 'dist', 'scripts', 'bench', 'bare-aedes.js')], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const { mqttPort } = JSON.parse((await lines.next()).value as string) as { mqttPort: number }
  try {
    return await plainFanOut(`mqtt://127.0.0.1:${mqttPort}`, 'aedes')
  } finally {
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('exit', resolve))
  }
}

// Throughput figures: the real gateway process (QoS 0 persisted, QoS 1 durable) and Debian's Mosquitto
// (forwarding only) under the same load generator, CPU read from /proc/<pid>/stat of each broker process.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { packageRoot } from '../../../src/paths.js'
import { topicOf } from '../../../src/protocol/index.js'
import { insertDevices, tempDb } from './storage.js'
import { deviceSecret } from '../credentials.js'
import { publishPacket, subscribePacket, wireConnect, writeAll, type WireClient } from './mqtt-wire.js'

const CLK_TCK = 100

export function cpuMicros (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  // Fields 14 and 15 (utime, stime), counted after the ") " that ends the command name.
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / CLK_TCK
}

export function rssMb (pid: number): { rss: number, peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}

interface Gw { child: ChildProcess, mqttPort: number, httpPort: number }

async function startGateway (dataDir: string): Promise<Gw> {
  const child = spawn(process.execPath, [join(packageRoot, 'dist', 'src', 'main.js'), 'start'], {
    env: {
      PATH: process.env.PATH ?? '',
      AUTOCORE_DATA_DIR: dataDir,
      AUTOCORE_MQTT_PORT: '0',
      AUTOCORE_HTTP_PORT: '0',
      AUTOCORE_MQTT_HOST: '127.0.0.1',
      AUTOCORE_HTTP_HOST: '127.0.0.1',
      AUTOCORE_LOG_PRETTY: 'never'
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      for (const line of buf.split('\n')) {
        if (!line.includes('"gateway started"')) continue
        const o = JSON.parse(line) as { mqttPort: number, httpPort: number }
        resolve({ child, mqttPort: o.mqttPort, httpPort: o.httpPort })
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1)
    })
    child.once('exit', code => reject(new Error(`gateway exited ${String(code)}`)))
  })
}

async function written (httpPort: number): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${httpPort}/health`)
  return ((await r.json()) as { telemetry: { written: number } }).telemetry.written
}

const DEVICES = 50
// QoS 1 readings each device keeps in flight: durable throughput is a group-commit effect, so it grows with it.
const WINDOWS = [1, 10, 50]

/** 50 devices, QoS 0, 1 reading per message, as fast as the broker reads; done when every reading is written. */
/** Each provisioned device connects as itself: client id = username = uuid, password = its secret. */
async function connectDevices (gw: Gw, uuids: string[], secret: string): Promise<WireClient[]> {
  return await Promise.all(uuids.map(async u => await wireConnect(gw.mqttPort, u, { username: u, password: secret })))
}

async function qos0Gateway (gw: Gw, uuids: string[], secret: string, perDevice: number): Promise<string> {
  const clients = await connectDevices(gw, uuids, secret)
  const packets = uuids.map(u =>
    Array.from({ length: perDevice }, (_, i) =>
      publishPacket(topicOf('deviceTelemetry', { uuid: u }), `{"temp":${(i % 1000) / 10}}`, 0)
    )
  )
  const pid = gw.child.pid as number
  const base = await written(gw.httpPort)
  const total = DEVICES * perDevice
  const cpu0 = cpuMicros(pid)
  const t0 = performance.now()
  await Promise.all(clients.map(async (c, i) => await writeAll(c.socket, packets[i])))
  while (await written(gw.httpPort) - base < total) await sleep(20)
  const s = (performance.now() - t0) / 1000
  const cpu = cpuMicros(pid) - cpu0
  const mem = rssMb(pid)
  for (const c of clients) c.socket.destroy()
  return `gateway QoS 0: ${total.toLocaleString('en-US')} readings from ${DEVICES} authenticated devices (ACL + ` +
    'payload schema checked) persisted ' +
      `in ${s.toFixed(2)} s = ${Math.round(total / s).toLocaleString('en-US')} readings/s; gateway ` +
        `CPU ${(cpu / total).toFixed(1)} µs/reading (broker + parse + SQLite, all in one process); ` +
          `RSS ${mem.rss.toFixed(0)} MB (peak ${mem.peak.toFixed(0)} MB)`
}

/** 50 devices, QoS 1, each keeping `window` readings in flight; PUBACK latency per reading. */
async function qos1Gateway (
  gw: Gw,
  uuids: string[],
  secret: string,
  perDevice: number,
  window: number
): Promise<string> {
  const clients = await connectDevices(gw, uuids, secret)
  const latencies: number[] = []
  const pid = gw.child.pid as number
  const cpu0 = cpuMicros(pid)
  const t0 = performance.now()
  await Promise.all(clients.map(async (c: WireClient, d) => await new Promise<void>(resolve => {
    const sentAt = new Map<number, number>()
    let next = 0
    let acked = 0
    const send = (): void => {
      const id = (next % 65535) + 1
      sentAt.set(id, performance.now())
      c.socket.write(publishPacket(topicOf('deviceTelemetry', { uuid: uuids[d] }), `{"volt":${next / 100}}`, 1, id))
      next++
    }
    c.handlers.push((type, id) => {
      if (type !== 4) return
      latencies.push(performance.now() - (sentAt.get(id) as number))
      acked++
      if (acked === perDevice) return resolve()
      if (next < perDevice) send()
    })
    for (let i = 0; i < window; i++) send()
  })))
  const s = (performance.now() - t0) / 1000
  const cpu = cpuMicros(pid) - cpu0
  for (const c of clients) c.socket.destroy()
  latencies.sort((a, b) => a - b)
  const total = DEVICES * perDevice
  const p = (q: number): string =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1)
  return `gateway QoS 1 durable: ${total.toLocaleString('en-US')} readings ` +
    `(${DEVICES} devices × ${window} in flight) ` +
      `in ${s.toFixed(2)} s = ${Math.round(total / s).toLocaleString('en-US')} readings/s; PUBACK after commit ` +
        `p50 ${p(0.5)} ms, p99 ${p(0.99)} ms; CPU ${(cpu / total).toFixed(1)} µs/reading`
}

/**
 * Mosquitto, no storage: the same publishers, with one subscriber on autocore/# (forwarding) or none (receive
 * only; each publisher's PINGRESP after its last PUBLISH shows Mosquitto has read them all, in order).
 */
async function mosquitto (
  perDevice: number,
  dir: string,
  withSubscriber: boolean
): Promise<{ line: string, usPerMsg: number }> {
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`)
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' })
  try {
    let first: WireClient | undefined
    for (let i = 0; i < 50 && first === undefined; i++) {
      try { first = await wireConnect(port, 'bench-sub') } catch { await sleep(50) }
    }
    if (first === undefined) throw new Error('mosquitto did not start')
    const sub = first
    let received = 0
    if (withSubscriber) {
      await new Promise<void>(resolve => {
        sub.handlers.push(type => {
          if (type === 9) resolve()
          if (type === 3) received++
        })
        sub.socket.write(subscribePacket('autocore/#'))
      })
    }
    const uuids = Array.from({ length: DEVICES }, (_, i) => `bench-device-${String(i).padStart(3, '0')}`)
    const clients = await Promise.all(uuids.map(async u => await wireConnect(port, u)))
    const packets = uuids.map(u =>
      Array.from({ length: perDevice }, (_, i) =>
        publishPacket(topicOf('deviceTelemetry', { uuid: u }), `{"temp":${(i % 1000) / 10}}`, 0)
      )
    )
    const total = DEVICES * perDevice
    const pid = child.pid as number
    const cpu0 = cpuMicros(pid)
    const t0 = performance.now()
    await Promise.all(clients.map(async (c, i) => {
      await writeAll(c.socket, packets[i])
      await new Promise<void>(resolve => {
        c.handlers.push(type => {
          if (type === 13) resolve()
        })
        c.socket.write(PINGREQ)
      })
    }))
    const deadline = Date.now() + 30_000
    const delivering = (): boolean => withSubscriber && received < total && Date.now() < deadline
    while (delivering()) await sleep(20)
    const s = (performance.now() - t0) / 1000
    const cpu = cpuMicros(pid) - cpu0
    for (const c of clients) c.socket.destroy()
    sub.socket.destroy()
    const usPerMsg = cpu / total
    const what = withSubscriber
      ? `forwarding to 1 subscriber: ${received.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} delivered`
      : `receive only, no subscriber: ${total.toLocaleString('en-US')} read`
    return {
      usPerMsg,
      line:
        'mosquitto (Debian, no ' +
        `storage) ${what} in ${s.toFixed(2)} s = ${Math.round(total / s).toLocaleString('en-US')} msg/s; ` +
        `CPU ${usPerMsg.toFixed(1)} µs/msg`
    }
  } finally {
    child.kill('SIGTERM')
  }
}

const PINGREQ = Buffer.from([0xC0, 0x00])

export async function load (perDevice0 = 4000, perDevice1 = 400): Promise<string[]> {
  const { db, dir, done } = await tempDb()
  const { secret, secretHash } = await deviceSecret()
  await insertDevices(db, DEVICES, secretHash)
  await db.close()
  const uuids = Array.from({ length: DEVICES }, (_, i) => `bench-device-${String(i).padStart(3, '0')}`)
  const out: string[] = []
  const m = await mosquitto(perDevice0, dir, true)
  out.push(m.line)
  const bare = await mosquitto(perDevice0, dir, false)
  out.push(bare.line)
  const gw = await startGateway(dir)
  let usPerReading = 0
  try {
    const idle = rssMb(gw.child.pid as number)
    out.push(`gateway RSS after start: ${idle.rss.toFixed(0)} MB`)
    const line = await qos0Gateway(gw, uuids, secret, perDevice0)
    usPerReading = Number(/CPU ([\d.]+) µs/.exec(line)?.[1])
    out.push(line)
    for (const window of WINDOWS) out.push(await qos1Gateway(gw, uuids, secret, perDevice1, window))
  } finally {
    gw.child.kill('SIGTERM')
    await new Promise(resolve => gw.child.once('exit', resolve))
  }
  const check = new Database(join(dir, 'autocore.db'), { readonly: true })
  const byKey = check.prepare('SELECT key, COUNT(*) AS n FROM telemetry_data GROUP BY key').all() as Array<{
    key: string
    n: number
  }>
  check.close()
  const n = (k: string): number => byKey.find(r => r.key === k)?.n ?? 0
  out.push(
    'persisted after stop: QoS ' +
      `0 ${n('temp').toLocaleString('en-US')} of ${(DEVICES * perDevice0).toLocaleString('en-US')} ` +
      `(lost ${DEVICES * perDevice0 - n('temp')}), ` +
      `QoS 1 ${n('volt').toLocaleString('en-US')} ` +
      `of ${(DEVICES * perDevice1 * WINDOWS.length).toLocaleString('en-US')} ` +
      `(lost ${DEVICES * perDevice1 * WINDOWS.length - n('volt')})`
  )
  out.push(
    `CPU ratio: gateway ${usPerReading.toFixed(1)} µs per persisted reading / ` +
      `mosquitto ${m.usPerMsg.toFixed(1)} µs per forwarded message ` +
        `= ${(usPerReading / m.usPerMsg).toFixed(2)}× (target ≤ 1.5×); against mosquitto receiving only ` +
          `(${bare.usPerMsg.toFixed(1)} µs/msg): ${(usPerReading / bare.usPerMsg).toFixed(2)}×`
  )
  await done()
  return out
}

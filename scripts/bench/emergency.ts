// Benchmark of issue 5 (acceptance 3), run by `npm run bench` (or `node dist/scripts/bench/emergency.js`):
// 1. the gateway as a child process (`node dist/src/main.js start`) with 200 simulated relay boards connected; an
//    emergency stop published over MQTT by a panel; latency from the trigger's publish to the LAST board receiving
//    its off-command, p50/p99 over 200 trials;
// 2. Debian's Mosquitto, plain 1 → 200 fan-out of one QoS 1 message, p50/p99 over 200 trials, same machine, same
//    client library, in the same run, for comparison; and the same plain fan-out on bare Aedes (no hooks), which
//    tells the broker library's share from the gateway's;
// 3. command round-trip: the service call the HTTP API makes (relays.setChannel) → board → response → ack written.
// Knobs for investigation: BENCH_MQTT_CONCURRENCY (overrides the child's shipped mqtt.concurrency), BENCH_NODE_ARGS
// (e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway child).
import 'reflect-metadata'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { Device, RelayChannel } from '../../entities/index.js'
import { Gateway } from '../../src/app.js'
import { loadConfig } from '../../src/config/loader.js'
import { packageRoot } from '../../src/paths.js'
import { openDatabase } from '../../src/persistence/database.js'
import { addUser, deviceSecret, login } from './credentials.js'
import type { Scenario } from './scenario.js'

const BOARDS = 200
const TRIALS = 200
const ROUND_TRIPS = 300
const ACTUATION_MS = 20
const silent = pino({ level: 'silent' })

type Client = mqtt.MqttClient

function pct (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

const fmt = (xs: number[]): string =>
  `p50 ${pct(xs, 0.5).toFixed(2)} ms  p99 ${pct(xs, 0.99).toFixed(2)} ms  max ${pct(xs, 1).toFixed(2)} ms`

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}

/** Connects `ids` 20 at a time; with `secret`, each as the device of that uuid (client id = username = uuid). */
async function connectMany (url: string, ids: string[], secret?: string): Promise<Client[]> {
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
async function seed (dataDir: string, uuids: string[]): Promise<string> {
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
type Inside = Record<'persistedMs' | 'publishedMs' | 'offCommandsMs', number[]>

async function startGatewayProcess (
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
function actAsBoard (client: Client, uuid: string, onOff: (uuid: string) => void, actuationMs = ACTUATION_MS): void {
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

async function benchGatewayEmergency (): Promise<{ latencies: number[], inside: Inside }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'autocore-bench-'))
  const uuids = Array.from({ length: BOARDS }, (_, i) => `bench-board-${String(i).padStart(3, '0')}`)
  const secret = await seed(dataDir, uuids)
  // The panel: an admin (operators may stop but only admins reset, SPEC §3), logged in over HTTP, JWT as password.
  const admin = await addUser(dataDir, 'admin')
  const { child, mqttPort, httpPort, inside } = await startGatewayProcess(dataDir)
  const url = `mqtt://127.0.0.1:${mqttPort}`
  const boards = await connectMany(url, uuids, secret)
  let got = new Set<string>()
  let lastAt = 0
  let wake: () => void = () => {}
  boards.forEach((c, i) => actAsBoard(c, uuids[i], uuid => {
    got.add(uuid)
    lastAt = performance.now()
    if (got.size === BOARDS) wake()
  }))
  await Promise.all(
    boards.map(
      async (c, i) =>
        await c.subscribeAsync([`autocore/relays/${uuids[i]}/command`, `autocore/devices/${uuids[i]}/command`], {
          qos: 1
        })
    )
  )
  const panel = await mqtt.connectAsync(url, {
    clientId: 'bench-panel',
    username: admin.username,
    password: await login(httpPort, admin),
    reconnectPeriod: 0
  })
  await panel.subscribeAsync('autocore/emergency/reset', { qos: 1 })
  await new Promise(resolve => setTimeout(resolve, 300))
  const latencies: number[] = []
  try {
    for (let i = 0; i < TRIALS + 5; i++) {
      got = new Set()
      const all = new Promise<void>(resolve => { wake = resolve })
      const t0 = performance.now()
      panel.publish('autocore/emergency/stop', JSON.stringify({ reason: `bench ${i}` }), { qos: 1 })
      await withTimeout(all, 10000, `trial ${i}: ${got.size}/${BOARDS} boards got their off-command`)
      if (i >= 5) latencies.push(lastAt - t0) // 5 warm-up trials
      const reset = new Promise<void>(resolve => panel.once('message', () => resolve()))
      panel.publish('autocore/emergency/reset', '{}', { qos: 1 })
      await withTimeout(reset, 10000, 'reset broadcast')
      // Let the 200 responses and state reports of this trial be processed before the next one.
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  } finally {
    for (const c of [...boards, panel]) c.end(true)
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('exit', resolve))
    rmSync(dataDir, { recursive: true, force: true })
  }
  return { latencies, inside }
}

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

async function benchMosquitto (): Promise<number[] | string> {
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
async function benchBareAedes (): Promise<number[]> {
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

async function benchRoundTrip (): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'autocore-rt-'))
  const config = loadConfig({
    env: {},
    overrides: { dataDir, mqtt: { port: 0, host: '127.0.0.1' }, http: { port: 0, host: '127.0.0.1' } }
  })
  const gateway = await Gateway.start({ config, log: silent })
  const uuid = 'bench-rt-board'
  const { secret, secretHash } = await deviceSecret()
  await gateway.ctx.db.dataSource
    .getRepository(Device)
    .insert({ uuid, name: uuid, type: 'relay_board', secretHash, createdAt: Date.now(), updatedAt: Date.now() })
  const id = (await gateway.ctx.db.dataSource.getRepository(Device).findOneByOrFail({ uuid })).id
  await gateway.ctx.db.dataSource
    .getRepository(RelayChannel)
    .insert({ deviceId: id, channelNumber: 1, name: 'main', updatedAt: Date.now() })
  const board = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, {
    clientId: uuid,
    username: uuid,
    password: secret,
    reconnectPeriod: 0
  })
  actAsBoard(board, uuid, () => {}, 0)
  await board.subscribeAsync([`autocore/relays/${uuid}/command`, `autocore/devices/${uuid}/command`], { qos: 1 })
  while (!gateway.control.commands.isOnline(uuid)) await new Promise(resolve => setTimeout(resolve, 10))
  const latencies: number[] = []
  try {
    for (let i = 0; i < ROUND_TRIPS + 10; i++) {
      const t0 = performance.now()
      const r = await gateway.control.relays.setChannel({
        deviceUuid: uuid,
        channel: 1,
        action: i % 2 === 0 ? 'on' : 'off',
        source: 'api',
        user: 'bench'
      })
      const o = await r.outcome
      if (o.status !== 'acked') throw new Error(`round trip ${i}: ${o.status}`)
      if (i >= 10) latencies.push(performance.now() - t0)
    }
  } finally {
    board.end(true)
    await gateway.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  return latencies
}

async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
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

export async function run (): Promise<void> {
  const started = performance.now()
  const { latencies: gw, inside } = await benchGatewayEmergency()
  console.log(
    'emergency stop fan-out, gateway child process (auth + ACL on: boards with their secrets, an admin panel with ' +
      `its JWT), ${BOARDS} relay boards, ${gw.length} trials (panel publish -> last board has its ` +
        `off-command): ${fmt(gw)}`
  )
  if (inside.persistedMs.length > 0) {
    console.log(
      '  inside the gateway: system_status.emergency written (before the fan-out; fsync\'d with the command rows) ' +
        `after ${fmt(inside.persistedMs)}`
    )
  }
  if (inside.publishedMs.length > 0) {
    console.log(`  inside the gateway: all off-commands written to the sockets after ${fmt(inside.publishedMs)}`)
  }
  if (inside.offCommandsMs.length > 0) {
    console.log(
      '  inside the gateway: ... and their rows and the desired states committed (SQLite, synchronous=FULL) ' +
        `after ${fmt(inside.offCommandsMs)}`
    )
  }
  const mq = await benchMosquitto()
  if (typeof mq === 'string') console.log(`mosquitto plain 1->${BOARDS} fan-out: ${mq}`)
  else {
    console.log(`mosquitto plain 1->${BOARDS} QoS 1 fan-out, ${mq.length} trials (publish -> last subscriber has ` +
    `it): ${fmt(mq)}`)
  }
  const bare = await benchBareAedes()
  console.log(
    `bare Aedes (no hooks, in-memory persistence) plain 1->${BOARDS} QoS 1 fan-out, same ` +
      `clients, ${bare.length} trials: ${fmt(bare)}`
  )
  if (typeof mq !== 'string') {
    const verdict = pct(gw, 0.99) <= pct(mq, 0.99) ? 'meets' : 'MISSES'
    console.log(
      `emergency p99 ${pct(gw, 0.99).toFixed(2)} ms vs mosquitto ` +
        `p99 ${pct(mq, 0.99).toFixed(2)} ms: ${verdict} the target (p99 <= mosquitto's)`
    )
  }
  const rt = await benchRoundTrip()
  console.log(
    'command round-trip, relays.setChannel (the API\'s call) -> board -> response -> ack ' +
      `written, ${rt.length} trials: ${fmt(rt)}`
  )
  console.log(`emergency bench took ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

export const emergencyScenario: Scenario = {
  name: 'emergency',
  description: '200 relay boards: emergency stop fan-out p50/p99 vs mosquitto 1->200; command round-trip',
  targets: ['app'],
  run: async () => {
    console.log('\n== emergency: stop fan-out to 200 boards, command round-trip')
    await run()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().then(() => process.exit(0), err => { console.error(err); process.exit(1) })
}

/**
 * Access benchmark (issue 3, acceptance 3 and 5). Spawns the built gateway (`node dist/src/main.js start`)
 * and reads the broker process's CPU from /proc/<pid>/stat:
 *  1. 1,000 failed device logins in a burst from 127.0.0.2 (attacker.ts, its own process): how long a correct device
 *     takes to connect from 127.0.0.1 during the burst vs normally, and the gateway's CPU during the burst; three
 *     rounds with the default throttling, three guessing an unknown id (nothing hashed: the floor a burst of sockets
 *     sets on this machine), once with auth.penaltyMs = 0 (every attempt hashed) for contrast.
 *  2. QoS 0 fan-in: authenticated devices publishing to one subscriber, broker CPU µs per message, vs a bare
 *     Aedes (no hooks) with the same devices, topics and payloads in the same run (each broker first gets an
 *     unmeasured warm-up fan-in, and the devices' connections settle before the CPU is read), on two families:
 *     - device error reports (`autocore/devices/{uuid}/error`): the access path alone — authentication, ACL,
 *       payload schema validation, the whole publish pipeline and the router — on a family the gateway validates
 *       and forwards but does not store. This is issue 3's figure (target ≤ 1.3×).
 *     - telemetry: the same plus parsing and SQLite persistence (CPU read once every reading is written), which
 *       issue 4's bench measures against Mosquitto; printed so the storage cost is seen, not hidden.
 * Prints its own lines; asserts nothing.
 */
import 'reflect-metadata'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes, randomUUID } from 'node:crypto'
import mqtt from 'mqtt'
import { loadConfig } from '../../src/config/loader.js'
import { createLogger } from '../../src/log.js'
import { openDatabase } from '../../src/persistence/database.js'
import { createRepositories } from '../../src/persistence/repositories/index.js'
import { hashSecret } from '../../src/auth/passwords.js'
import { packageRoot } from '../../src/paths.js'
import type { Scenario } from './scenario.js'

const TICK_US = 1e6 / 100 // USER_HZ is 100 on Linux

interface Proc { child: ChildProcess, mqttPort: number, httpPort?: number, stop: () => Promise<void> }

function cpuUs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_US // utime + stime
}

async function spawnUntil (args: string[], env: Record<string, string>, msg: string): Promise<Proc> {
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

async function startGateway (dataDir: string, extra: Record<string, string> = {}): Promise<Proc> {
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
async function provision (
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

async function timedConnect (port: number, dev: { uuid: string, secret: string }): Promise<number> {
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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const p90 = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]
const f1 = (x: number): string => x.toFixed(1)

/**
 * `rounds` times: a fresh gateway, 15 timed connects of the correct device, then the same device connecting in a
 * loop while attacker.ts sends 1,000 wrong CONNECTs; the timings of all rounds pooled. `guess` is whom the attacker
 * claims to be: the provisioned target device (its guesses are hashed until the penalty) or an unknown id (nothing
 * is hashed: what the burst's sockets alone cost a 2-core machine that runs the attacker too).
 */
export async function burst (
  label: string,
  extraEnv: Record<string, string>,
  rounds = 1,
  guess: 'device' | 'unknown' = 'device'
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'autocore-bench-'))
  try {
    const { devices } = await provision(dir, 2)
    const [good, target] = devices
    const normal: number[] = []
    const during: number[] = []
    const walls: number[] = []
    let cpuMs = 0
    let measuredMs = 0
    const codes: Record<string, number> = {}
    for (let round = 0; round < rounds; round++) {
      const gw = await startGateway(dir, extraEnv)
      for (let i = 0; i < 15; i++) normal.push(await timedConnect(gw.mqttPort, good))
      const claimed = guess === 'device' ? target.uuid : randomUUID()
      const attacker = spawn(
        'nice',
        [
          '-n',
          '19',
          process.execPath,
          join(packageRoot, 'dist', 'scripts', 'bench', 'attacker.js'),
          String(gw.mqttPort),
          claimed,
          '1000',
          '50'
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] }
      )
      const lines = createInterface({ input: attacker.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
      await lines.next() // "go": sockets are about to open
      const cpu0 = cpuUs(gw.child.pid as number)
      const t0 = performance.now()
      const result = lines.next()
      const state = { done: false }
      void result.finally(() => { state.done = true })
      while (!state.done) during.push(await timedConnect(gw.mqttPort, good))
      const r = JSON.parse((await result).value as string) as { wallMs: number, codes: Record<string, number> }
      measuredMs += performance.now() - t0
      cpuMs += (cpuUs(gw.child.pid as number) - cpu0) / 1000
      walls.push(r.wallMs)
      for (const [c, n] of Object.entries(r.codes)) codes[c] = (codes[c] ?? 0) + n
      await gw.stop()
    }
    const codeText = Object.entries(codes).sort().map(([c, n]) => `${n}× CONNACK ${c}`).join(', ')
    console.log(
      `access: failed-login burst (${label}), ${rounds} round${rounds > 1 ? 's' : ''} of 1000 attempts from ` +
        `127.0.0.2 in median ${f1(median(walls))} ms (${codeText}); ` +
        `gateway CPU ${f1((100 * cpuMs) / measuredMs)}% of one core; correct device from 127.0.0.1 connects in ` +
        `median ${f1(median(during))} ms (p90 ${f1(p90(during))}, max ${f1(Math.max(...during))}, ` +
        `n=${during.length}) during vs ` +
        `median ${f1(median(normal))} ms (p90 ${f1(p90(normal))}, n=${normal.length}) normally: ` +
        `${(median(during) / median(normal)).toFixed(2)}×`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** One topic family's fan-in load: the topic a device publishes on and its n-th payload. */
interface Family { name: string, filter: string, topic: (uuid: string) => string, payload: (n: number) => string }

const FAMILIES = {
  error: {
    name: 'device error reports',
    filter: 'autocore/devices/+/error',
    topic: (uuid: string) => `autocore/devices/${uuid}/error`,
    payload: (n: number) => `{"code":${400 + (n % 10)},"message":"probe ${n % 10} out of range"}`
  },
  telemetry: {
    name: 'telemetry',
    filter: 'autocore/devices/+/telemetry',
    topic: (uuid: string) => `autocore/devices/${uuid}/telemetry`,
    payload: (n: number) => `{"temp":${20 + (n % 10)},"hum":{"value":40,"unit":"%"}}`
  }
} satisfies Record<string, Family>

// What the devices' connections cost (secret hashing, presence rows and events) is per connection, not per message:
// it is let finish before the CPU is read.
const SETTLE_MS = 1000
/** Messages per device of an unmeasured first fan-in, so that the JIT has compiled both brokers' paths. */
const WARMUP_PER_DEVICE = 1000

/**
 * `perDevice` QoS 0 messages from each device to the one subscriber `sub`; the broker's CPU from the first publish
 * until every message is delivered and `settled` (if given) resolves. Returns µs of broker CPU per message.
 */
async function fanIn (
  label: string | undefined,
  port: number,
  pid: number,
  devices: Array<{ uuid: string, secret?: string }>,
  sub: mqtt.MqttClient,
  family: Family,
  perDevice: number,
  settled?: () => Promise<void>
): Promise<number> {
  const clients = await Promise.all(
    devices.map(
      async d =>
        await mqtt.connectAsync(
          `mqtt://127.0.0.1:${port}`,
          d.secret === undefined
            ? { clientId: d.uuid, reconnectPeriod: 0 }
            : { clientId: d.uuid, username: d.uuid, password: d.secret, reconnectPeriod: 0 }
        )
    )
  )
  await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
  const total = devices.length * perDevice
  let got = 0
  let onMessage = (): void => {}
  const all = new Promise<void>(resolve => { onMessage = () => { if (++got === total) resolve() } })
  sub.on('message', onMessage)
  const cpu0 = cpuUs(pid)
  const t0 = performance.now()
  await Promise.all(clients.map(async (c, i) => {
    const topic = family.topic(devices[i].uuid)
    for (let n = 0; n < perDevice; n++) {
      c.publish(topic, family.payload(n), { qos: 0 })
      if (n % 100 === 99) await new Promise(resolve => setImmediate(resolve))
    }
  }))
  await Promise.race([all, new Promise(resolve => setTimeout(resolve, 60_000))])
  await settled?.()
  const cpu = cpuUs(pid) - cpu0
  const wall = performance.now() - t0
  sub.off('message', onMessage)
  await Promise.all(clients.map(async c => await c.endAsync()))
  const usPerMsg = cpu / got
  if (label !== undefined) {
    console.log(
      `access: QoS0 fan-in ${label}: ${devices.length} devices × ${perDevice} msgs → 1 ` +
        `subscriber, ${got}/${total} delivered in ${f1(wall)} ms, broker CPU ${f1(usPerMsg)} µs/msg`
    )
  }
  return usPerMsg
}

async function telemetryWritten (httpPort: number): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${httpPort}/health`)
  return ((await r.json()) as { telemetry: { written: number } }).telemetry.written
}

/** Bare Aedes, no hooks: both families, one after the other, on one broker process. */
async function bareRound (
  round: number,
  devices: Array<{ uuid: string }>,
  per: number
): Promise<{ error: number, telemetry: number }> {
  const bare = await spawnUntil(
    [join(packageRoot, 'dist', 'scripts', 'bench', 'bare-aedes.js')],
    {},
    'bare aedes started'
  )
  try {
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${bare.mqttPort}`, { reconnectPeriod: 0 })
    await sub.subscribeAsync([FAMILIES.error.filter, FAMILIES.telemetry.filter], { qos: 0 })
    const pid = bare.child.pid as number
    await fanIn(undefined, bare.mqttPort, pid, devices, sub, FAMILIES.error, WARMUP_PER_DEVICE)
    const error = await fanIn(
      `bare Aedes, ${FAMILIES.error.name} (round ${round})`,
      bare.mqttPort,
      pid,
      devices,
      sub,
      FAMILIES.error,
      per
    )
    const telemetry = await fanIn(
      `bare Aedes, ${FAMILIES.telemetry.name} (round ${round})`,
      bare.mqttPort,
      pid,
      devices,
      sub,
      FAMILIES.telemetry,
      per
    )
    await sub.endAsync()
    return { error, telemetry }
  } finally {
    await bare.stop()
  }
}

/** The gateway: a viewer subscribed to both families; error reports first, then telemetry until all is written. */
async function gatewayRound (
  round: number,
  dir: string,
  devices: Array<{ uuid: string, secret: string }>,
  viewer: { username: string, password: string },
  per: number
): Promise<{ error: number, telemetry: number }> {
  const gw = await startGateway(dir, {})
  try {
    const httpPort = gw.httpPort as number
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(viewer) })
    const { token } = await res.json() as { token: string }
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
      username: viewer.username,
      password: token,
      reconnectPeriod: 0
    })
    await sub.subscribeAsync([FAMILIES.error.filter, FAMILIES.telemetry.filter], { qos: 0 })
    const pid = gw.child.pid as number
    await fanIn(undefined, gw.mqttPort, pid, devices, sub, FAMILIES.error, WARMUP_PER_DEVICE)
    const error = await fanIn('gateway, access path: authenticated devices + ACL + schema validation + publish ' +
      `pipeline + router; ${FAMILIES.error.name}, validated and forwarded, not stored (round ${round})`,
    gw.mqttPort, pid, devices, sub, FAMILIES.error, per)
    const base = await telemetryWritten(httpPort)
    const total = devices.length * per
    const allWritten = async (): Promise<void> => {
      const deadline = Date.now() + 60_000
      while ((await telemetryWritten(httpPort)) - base < total && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    }
    const telemetry = await fanIn(`gateway, ${FAMILIES.telemetry.name}: the access path + telemetry parsing + SQLite ` +
      `persistence, until every reading is written (round ${round})`,
    gw.mqttPort, pid, devices, sub, FAMILIES.telemetry, per, allWritten)
    await sub.endAsync()
    return { error, telemetry }
  } finally {
    await gw.stop()
  }
}

export async function fanInBoth (): Promise<void> {
  const DEVICES = 20
  const PER = 5000
  const dir = mkdtempSync(join(tmpdir(), 'autocore-bench-'))
  try {
    const { devices, viewer } = await provision(dir, DEVICES)
    const access: number[] = []
    const stored: number[] = []
    for (let round = 1; round <= 3; round++) {
      const bare = await bareRound(round, devices.map(d => ({ uuid: d.uuid })), PER)
      const gw = await gatewayRound(round, dir, devices, viewer, PER)
      access.push(gw.error / bare.error)
      stored.push(gw.telemetry / bare.telemetry)
    }
    const list = (rs: number[]): string =>
      `${rs.map(r => r.toFixed(2) + '×').join(', ')}, median ${median(rs).toFixed(2)}×`
    console.log(
      'access: QoS0 fan-in gateway/bare CPU per message, access path (authentication + ACL + schema validation + ' +
        `publish pipeline + router; ${FAMILIES.error.name}, not stored): ${list(access)} (target ≤ 1.3×)`
    )
    console.log(
      'access: QoS0 fan-in gateway/bare CPU per message, telemetry including SQLite persistence (storage is issue ' +
        `4's figure, vs Mosquitto; not this target): ${list(stored)}`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function run (): Promise<void> {
  await burst('default throttling, guessing a device\'s secret', {}, 3)
  await burst('control: guessing an unknown id, nothing hashed', {}, 3, 'unknown')
  await burst('no penalty: every attempt hashed', { AUTOCORE_AUTH_PENALTY_MS: '0' })
  await fanInBoth()
}

export const accessScenario: Scenario = {
  name: 'access',
  description:
    '1,000 failed logins from one address vs a good device; QoS 0 fan-in, authenticated + ACL + schemas vs bare ' +
      'Aedes (error reports: access path; telemetry: + SQLite)',
  targets: ['app'],
  run: async () => {
    console.log('\n== access: failed-login burst, authenticated fan-in')
    await run()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()

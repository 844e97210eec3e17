// The access bench's QoS 0 fan-in part (see access.ts): the gateway vs a bare Aedes, per topic family.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { packageRoot } from '../../src/paths.js'
import { cpuUs, spawnUntil, startGateway, provision, median, f1 } from './access-gateway.js'

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

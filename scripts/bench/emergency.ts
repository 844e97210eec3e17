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
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { Device, RelayChannel } from '../../entities/index.js'
import { Gateway } from '../../src/app.js'
import { loadConfig } from '../../src/config/loader.js'
import { addUser, deviceSecret, login } from './credentials.js'
import {
  BOARDS, TRIALS, ROUND_TRIPS, silent, pct, fmt, connectMany, seed, type Inside, startGatewayProcess, actAsBoard,
  withTimeout
} from './emergency-rig.js'
import { benchMosquitto, benchBareAedes } from './emergency-fanout.js'
import type { Scenario } from './scenario.js'

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

async function benchRoundTrip (): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'autocore-rt-'))
  const config = loadConfig({
    env: {},
    overrides: { dataDir, mqtt: { port: 0, host: '127.0.0.1' }, http: { port: 0, host: '127.0.0.1' } }
  })
  const gateway = await Gateway.start({ config, log: silent })
  const uuid = 'bench-rt-board'
  const { secret, secretHash } = await deviceSecret()
  await gateway.services.db.dataSource
    .getRepository(Device)
    .insert({ uuid, name: uuid, type: 'relay_board', secretHash, createdAt: Date.now(), updatedAt: Date.now() })
  const id = (await gateway.services.db.dataSource.getRepository(Device).findOneByOrFail({ uuid })).id
  await gateway.services.db.dataSource
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
  while (!gateway.services.commands.isOnline(uuid)) await new Promise(resolve => setTimeout(resolve, 10))
  const latencies: number[] = []
  try {
    for (let i = 0; i < ROUND_TRIPS + 10; i++) {
      const t0 = performance.now()
      const r = await gateway.services.relays.setChannel({
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

import t from 'tap'
import { startApp } from '../helpers/app.js'
import { simBoard, simBoardAt } from '../helpers/boards.js'
import { deviceClient, userClient } from '../helpers/devices.js'
import { collect, nextMessage, waitFor } from '../helpers/mqtt.js'
import { apiAs, eventually, operatorAndAdmin, prepare, relayBoard, startProcess, stopWith } from '../helpers/restart.js'

const HB = 200
const MISSES = 3
// The kill test's interval: long enough that a loaded machine's timer lag stays well inside the one interval of slack.
const KILL_HB = 500

t.test('the heartbeat: QoS 0, not retained, seq counting up under one boot id; the contract is in the device ' +
  'config', async t => {
  const app = await startApp(t, { config: { gateway: { heartbeatMs: HB, deadmanMisses: MISSES } } })
  const { client: viewer } = await userClient(t, app, 'viewer')
  const seen = collect(viewer)
  await viewer.subscribeAsync('autocore/gateway/+/heartbeat', { qos: 1 })
  await waitFor(() => seen.length >= 3)
  const beats = seen.slice(0, 3)
  t.ok(
    beats.every(b => b.topic === `autocore/gateway/${app.config.gatewayId}/heartbeat` && b.qos === 0 && !b.retain),
    'QoS 0, live'
  )
  const bodies = beats.map(b => JSON.parse(b.payload) as { seq: number, boot_id: string, uptime_s: number })
  t.same(bodies.map(b => b.seq - bodies[0].seq), [0, 1, 2])
  t.equal(new Set(bodies.map(b => b.boot_id)).size, 1)
  t.ok(bodies.every(b => Number.isInteger(b.uptime_s) && b.uptime_s >= 0))

  // A board reads the contract from its device config, and may subscribe to the heartbeat.
  const board = await simBoard(t, app, {
    channels: [{ channel: 1, failSafe: 'off' }, { channel: 2 }, { channel: 3, failSafe: 'off' }],
    deadman: true
  })
  // The helper wrote the channels straight into the database: the config is asked for again, as a board would.
  await app.gateway.services.deviceConfig.request(board.uuid)
  await waitFor(() => board.deadman.beats > 0 && board.deadman.contract?.fail_safe_off.length === 2, 15000)
  t.same(board.deadman.contract, {
    heartbeat_topic: `autocore/gateway/${app.config.gatewayId}/heartbeat`,
    heartbeat_ms: HB,
    misses: MISSES,
    fail_safe_off: [1, 3]
  })
  // A device may not publish a heartbeat of its own (the gateway's topics are the gateway's).
  const { client: rogue } = await deviceClient(t, app)
  rogue.on('error', () => {})
  const closed = new Promise(resolve => rogue.once('close', resolve))
  rogue.publish(
    `autocore/gateway/${app.config.gatewayId}/heartbeat`,
    JSON.stringify({ seq: 1, boot_id: 'x', uptime_s: 0 }),
    { qos: 1 }
  )
  await closed
})

t.test('fail_safe over the API: validated, shown, and the board\'s device config follows it', async t => {
  const app = await startApp(t)
  const board = await simBoard(t, app, { channels: [{ channel: 1 }], deadman: true })
  await waitFor(() => board.deadman.contract !== undefined)
  t.same(board.deadman.contract?.fail_safe_off, [])
  const admin = await apiAs({ httpUrl: app.httpUrl } as never, await operatorAndAdmin(app).then(u => u.admin))
  const bad = await admin('POST', '/relays', {
    deviceUuid: board.uuid,
    channelNumber: 2,
    name: 'pump',
    function: 'toggle',
    failSafe: 'maybe'
  })
  t.equal(bad.status, 400)
  const created = await admin('POST', '/relays', {
    deviceUuid: board.uuid,
    channelNumber: 2,
    name: 'pump',
    function: 'toggle',
    failSafe: 'off'
  })
  t.equal(created.status, 201)
  t.equal(created.body.failSafe, 'off')
  await waitFor(() => board.deadman.contract?.fail_safe_off.length === 1)
  t.same(board.deadman.contract?.fail_safe_off, [2])
  const list = await admin('GET', `/relays?deviceUuid=${board.uuid}`)
  t.same(list.body.items.map((r: { failSafe: string }) => r.failSafe), ['hold', 'off'])
  t.equal((await admin('PATCH', `/relays/${String(list.body.items[0].id)}`, { failSafe: 'off' })).status, 200)
  await waitFor(() => board.deadman.contract?.fail_safe_off.length === 2)
  t.equal((await admin('DELETE', `/relays/${String(created.body.id)}`)).status, 204)
  await waitFor(() => board.deadman.contract?.fail_safe_off.length === 1)
  t.same(board.deadman.contract?.fail_safe_off, [1])
})

t.test('acceptance 3: kill -9 the gateway; the board turns its fail_safe: off channels off in time, reports it when ' +
  'the gateway is back, and the gateway records it', async t => {
  const dataDir = t.testdir()
  const setup = await prepare(t, dataDir, async app => ({
    board: await relayBoard(app, [{ channel: 1, failSafe: 'off' }, { channel: 2 }]),
    ...await operatorAndAdmin(app)
  }))
  const env = { AUTOCORE_GATEWAY_HEARTBEAT_MS: String(KILL_HB), AUTOCORE_GATEWAY_DEADMAN_MISSES: String(MISSES) }
  const first = await startProcess(t, dataDir, env)
  const board = await simBoardAt(t, first.mqttUrl, { ...setup.board, deadman: true })
  await nextMessage(board.client, 'autocore/emergency/state')
  const op = await apiAs(first, setup.operator)
  for (const ch of [1, 2]) t.equal((await op('POST', `/relays/${setup.board.ids[ch]}/on`)).status, 200)
  await eventually('both on', () => board.state.get(1) === true && board.state.get(2) === true)
  const before = board.deadman.beats
  await eventually('heartbeats flow', () => board.deadman.beats >= before + 2)
  t.equal(board.deadman.trips.length, 0, 'no trip while the heartbeat flows')

  const killedAt = Date.now()
  await stopWith(first, 'SIGKILL')
  await eventually('tripped', () => board.deadman.trips.length === 1, 10 * KILL_HB * MISSES)
  const [trip] = board.deadman.trips
  t.ok(
    trip.at - trip.lastBeatAt > MISSES * KILL_HB,
    `not before ${MISSES} intervals were missed (${trip.at - trip.lastBeatAt} ms)`
  )
  t.ok(
    trip.at - killedAt <= (MISSES + 1) * KILL_HB,
    `within deadmanMisses × heartbeatMs plus one interval of the kill (${trip.at - killedAt} ms)`
  )
  t.same(trip.channels, [1])
  t.equal(board.state.get(1), false, 'the fail_safe: off channel is off')
  t.equal(board.state.get(2), true, 'the hold channel keeps its state')

  const second = await startProcess(t, dataDir, env)
  await board.reconnect(second.mqttUrl)
  t.ok(trip.reported, 'reported once the gateway was back')
  const admin = await apiAs(second, setup.admin)
  await eventually('recorded', async () => (await admin('GET', '/events?type=deadman_tripped')).body.items.length === 1)
  const [event] = (await admin('GET', '/events?type=deadman_tripped')).body.items
  t.match(event, { level: 'warning', target: setup.board.uuid, payload: { code: 'deadman_tripped', channels: [1] } })
  // The gateway's desired state follows what the board did: a mismatch event, and channel 1 is recorded off.
  const onReconnect = async (): Promise<Array<{ target: string, payload: { on?: string, resolution?: string } }>> =>
    (
      (await admin('GET', '/events?type=relay_state_mismatch')).body.items as Array<{
        target: string
        payload: { on?: string }
      }>
    ).filter(e => e.payload.on === 'reconnect')
  await eventually('reconciled', async () => (await onReconnect()).length > 0)
  t.match(await onReconnect(), [
    { target: `${setup.board.uuid}/1`, payload: { resolution: 'desired state set to off' } }
  ])
  const relays = (await admin('GET', `/relays?deviceUuid=${setup.board.uuid}`)).body.items as Array<{
    channelNumber: number
    desiredState: boolean
    currentState: boolean
  }>
  t.same(relays.map(r => [r.channelNumber, r.desiredState, r.currentState]), [[1, false, false], [2, true, true]])
  await eventually(
    'heartbeats again',
    () =>
      board.deadman.beats > before + 2 && board.deadman.lastBeatAt !== undefined && board.deadman.lastBeatAt > trip.at
  )
  t.equal(board.deadman.trips.length, 1, 'no second trip once the heartbeat is back')
  await stopWith(second, 'SIGTERM')
})

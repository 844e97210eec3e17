import t from 'tap'
import { startApp, type RunningApp } from '../helpers/app.js'
import { simBoard } from '../helpers/boards.js'
import { userClient } from '../helpers/devices.js'
import { nextMessage, waitFor } from '../helpers/mqtt.js'

// Real time, a real broker on real sockets, the same data dir across the restart; ttlMs far beyond the test, so
// a command the gateway never sends stays pending instead of expiring.
const config = { commands: { ackTimeoutMs: 1000, maxAttempts: 2, ttlMs: 120000 } }

async function deviceStatus (app: RunningApp, uuid: string): Promise<string | undefined> {
  return (await app.gateway.services.repos.devices.byUuid(uuid))?.status
}

async function eventually (cond: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms
  while (!await cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

t.test('issue 14 reproduction: a board online before a restart gets its commands after it reconnects', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, config })
  const board = await simBoard(t, first, { channels: [{ channel: 1 }] })
  await waitFor(() => first.gateway.services.commands.isOnline(board.uuid))
  await nextMessage(board.client, 'autocore/emergency/state')
  const { client: panel } = await userClient(t, first, 'operator')
  await panel.publishAsync(`autocore/relays/${board.uuid}/set`, JSON.stringify({ channel: 1, action: 'toggle' }), {
    qos: 1
  })
  await waitFor(() => board.state.get(1) === true)
  t.equal(await deviceStatus(first, board.uuid), 'online')
  await first.stop()

  const second = await startApp(t, { dataDir, config })
  await board.reconnect(second.mqttUrl)
  await eventually(async () => await deviceStatus(second, board.uuid) === 'online')
  const { client: panel2 } = await userClient(t, second, 'operator')
  await panel2.publishAsync(`autocore/relays/${board.uuid}/set`, JSON.stringify({ channel: 1, action: 'toggle' }), {
    qos: 1
  })
  await eventually(() => board.state.get(1) === false)
  t.same(board.history, [{ 1: true }, { 1: false }], 'the toggle after the restart reached the board, once')

  // An emergency stop now reaches it as relay-off commands too, acknowledged in the roll-call.
  await second.gateway.services.relays.setChannel({ deviceUuid: board.uuid, channel: 1, action: 'on', source: 'api' })
  await eventually(() => board.state.get(1) === true)
  const record = await second.gateway.services.emergency.trigger({
    actor: { kind: 'user', username: 'alice', role: 'operator' },
    reason: 'test'
  })
  t.ok(record.active)
  await eventually(() => board.state.get(1) === false)
  await eventually(() => second.gateway.services.emergency.record.roll_call[board.uuid] === 'acked')
})

async function eventsOf (app: RunningApp, type: string): Promise<Array<{ target: string | null, payload: any }>> {
  return (await app.gateway.services.repos.events.recent({ eventType: type })).map(e => ({
    target: e.target,
    payload: e.payload
  }))
}

const holdConfig = { ...config, relays: { maxHoldMs: 600000 } }

t.test('a momentary hold interrupted by a restart is released: the relay ends off, its on never comes ' +
  'back', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, config: holdConfig })
  const board = await simBoard(t, first, { channels: [{ channel: 3, function: 'momentary' }] })
  await waitFor(() => first.gateway.services.commands.isOnline(board.uuid))
  await nextMessage(board.client, 'autocore/emergency/state')
  const held = await first.gateway.services.relays.hold({
    deviceUuid: board.uuid,
    channel: 3,
    durationMs: 500000,
    source: 'api',
    user: 'alice'
  })
  t.equal((await held.outcome).status, 'acked')
  await first.stop()

  const second = await startApp(t, { dataDir, config: holdConfig })
  const [interrupted] = await eventsOf(second, 'relay_hold_interrupted')
  t.equal(interrupted.target, `${board.uuid}/3`, 'recorded at start, before the board is back')
  await board.reconnect(second.mqttUrl)
  await eventually(() => board.state.get(3) === false)
  t.same(board.history, [{ 3: true }, { 3: false }])
  const off = await second.gateway.services.db.dataSource.query('SELECT status FROM commands WHERE command_id = ?', [
    interrupted.payload.command_id
  ])
  await eventually(
    async () => (await second.gateway.services.commands.statusOf(interrupted.payload.command_id)) === 'acked'
  )
  t.ok(off.length === 1)
})

t.test('a hold whose on never reached the board before the restart: the on is expired, never sent', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, config: holdConfig })
  const board = await simBoard(t, first, { channels: [{ channel: 3, function: 'momentary' }] })
  await waitFor(() => first.gateway.services.commands.isOnline(board.uuid))
  await nextMessage(board.client, 'autocore/emergency/state')
  await board.client.endAsync()
  await waitFor(() => !first.gateway.services.commands.isOnline(board.uuid))
  const held = await first.gateway.services.relays.hold({
    deviceUuid: board.uuid,
    channel: 3,
    durationMs: 500000,
    source: 'api'
  })
  t.equal(await first.gateway.services.commands.statusOf(held.commandId), 'pending')
  await first.stop()

  const second = await startApp(t, { dataDir, config: holdConfig })
  t.equal(await second.gateway.services.commands.statusOf(held.commandId), 'expired')
  await board.reconnect(second.mqttUrl)
  const [interrupted] = await eventsOf(second, 'relay_hold_interrupted')
  await eventually(
    async () => (await second.gateway.services.commands.statusOf(interrupted.payload.command_id)) === 'acked'
  )
  t.same(board.commands.map(c => c.body.action), ['off'], 'only the release reached the board')
  t.same(board.history, [{ 3: false }])
})

t.test('reconnect: the board\'s reported state is reconciled with the desired one; mismatches are events', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, config })
  const board = await simBoard(t, first, { channels: [{ channel: 1 }, { channel: 2 }] })
  await waitFor(() => first.gateway.services.commands.isOnline(board.uuid))
  await nextMessage(board.client, 'autocore/emergency/state')
  const off = await first.gateway.services.relays.setChannel({
    deviceUuid: board.uuid,
    channel: 1,
    action: 'off',
    source: 'api'
  })
  const on = await first.gateway.services.relays.setChannel({
    deviceUuid: board.uuid,
    channel: 2,
    action: 'on',
    source: 'api'
  })
  t.equal((await off.outcome).status, 'acked')
  t.equal((await on.outcome).status, 'acked')
  await eventually(
    async () =>
      (
        await first.gateway.services.relays.channelById(
          (
            await first.gateway.services.db.dataSource.query('SELECT id FROM relay_channels WHERE channel_number = 2')
          )[0].id
        )
      )?.currentState === true
  )
  await first.stop()
  // While the gateway is down, the board loses channel 2 (brown-out) and channel 1 is switched on by hand.
  board.state.set(1, true)
  board.state.set(2, false)

  const second = await startApp(t, { dataDir, config })
  await board.reconnect(second.mqttUrl)
  await eventually(() => board.state.get(1) === false)
  // Only the reconnect's (a slow report in the first run could add an ordinary after-ack mismatch).
  const onReconnect = async (): Promise<Array<{ target: string | null, payload: any }>> =>
    (await eventsOf(second, 'relay_state_mismatch')).filter(e => e.payload.on === 'reconnect')
  await eventually(async () => (await onReconnect()).length === 2)
  const mismatches = (await onReconnect()).map(e => [e.target, e.payload.resolution]).sort()
  t.same(mismatches, [[`${board.uuid}/1`, 'turned off'], [`${board.uuid}/2`, 'desired state set to off']])
  t.equal(board.state.get(2), false, 'the gateway never turns a relay on by itself')
  const rows = await second.gateway.services.db.dataSource.query(
    'SELECT channel_number, desired_state FROM relay_channels ORDER BY channel_number'
  )
  t.same(rows.map((r: any) => Boolean(r.desired_state)), [false, false])
})

t.test('an emergency stays latched across a restart and every board that reconnects is told', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, config })
  const board = await simBoard(t, first, { channels: [{ channel: 1 }] })
  await waitFor(() => first.gateway.services.commands.isOnline(board.uuid))
  await nextMessage(board.client, 'autocore/emergency/state')
  await board.client.endAsync()
  await waitFor(() => !first.gateway.services.commands.isOnline(board.uuid))
  await first.gateway.services.emergency.trigger({
    actor: { kind: 'user', username: 'alice', role: 'operator' },
    reason: 'fire'
  })
  await first.stop()
  board.state.set(1, true) // switched on by hand while nobody listened

  const second = await startApp(t, { dataDir, config })
  t.ok(second.gateway.services.emergency.record.active, 'still latched')
  await board.reconnect(second.mqttUrl)
  await eventually(() => board.state.get(1) === false)
  await eventually(() => second.gateway.services.emergency.record.roll_call[board.uuid] === 'acked')
  t.same(board.commands.filter(c => c.body.action === 'off').length, 1, 'one off, not one per restart')
  t.equal((await eventsOf(second, 'emergency_retold'))[0]?.target, board.uuid)
})

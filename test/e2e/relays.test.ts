import t, { type Test } from 'tap'
import { EventLog, RelayChannel } from '../../entities/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { simBoard, type SimBoard } from '../helpers/boards.js'
import { userClient } from '../helpers/devices.js'
import { waitFor, type Client } from '../helpers/mqtt.js'

const config = {
  commands: { ackTimeoutMs: 1000, maxAttempts: 2, ttlMs: 60000 },
  relays: { defaultHoldMs: 800, maxHoldMs: 10000, defaultPulseMs: 300 }
}

async function setup (
  t: Test,
  mode: SimBoard['mode'] = 'ok'
): Promise<{ app: RunningApp, clock: FakeClock, board: SimBoard, panel: Client }> {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config })
  const board = await simBoard(t, app, {
    mode,
    channels: [
      { channel: 1, name: 'forward', mutexGroup: 'drive' },
      { channel: 2, name: 'reverse', mutexGroup: 'drive' },
      { channel: 3, name: 'horn', function: 'momentary' },
      { channel: 4, name: 'pump', maxOnMs: 2000 },
      { channel: 5, name: 'latch', function: 'pulse', pulseMs: 250 },
      { channel: 6, name: 'spare', enabled: false }
    ]
  })
  await waitFor(() => app.gateway.services.commands.isOnline(board.uuid))
  const { client: panel } = await userClient(t, app, 'operator')
  return { app, clock, board, panel }
}

const set = async (panel: Client, uuid: string, body: Record<string, unknown>): Promise<void> => {
  await panel.publishAsync(`autocore/relays/${uuid}/set`, JSON.stringify(body), { qos: 1 })
}

async function events (app: RunningApp, type: string): Promise<EventLog[]> {
  return await app.gateway.services.db.dataSource
    .getRepository(EventLog)
    .find({ where: { eventType: type }, order: { id: 'ASC' } })
}

async function eventually (cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('condition not met in time')
}

const actions = (board: SimBoard): string[] =>
  board.commands
    .filter(c => c.topic.startsWith('autocore/relays/'))
    .map(c => `${String(c.body.action)}${String(c.body.channel)}`)

t.test('mutex: forward and reverse are never both on as the board sees it; the other goes off (acked) ' +
  'first', async t => {
  const { board, panel } = await setup(t)
  await set(panel, board.uuid, { channel: 1, action: 'on' })
  await waitFor(() => board.state.get(1) === true)
  await set(panel, board.uuid, { channel: 2, action: 'on' })
  await waitFor(() => board.state.get(2) === true)
  // Channel 2 had never reported its state, so it was not confirmed off: the rule turned it off first too.
  t.same(actions(board), ['off2', 'on1', 'off1', 'on2'])
  // A burst of contradicting requests, all at once.
  await Promise.all([
    set(panel, board.uuid, { channel: 1, action: 'on' }),
    set(panel, board.uuid, { channel: 2, action: 'on' }),
    set(panel, board.uuid, { channel: 1, action: 'toggle' })
  ])
  await waitFor(() => actions(board).length >= 7)
  await new Promise(resolve => setTimeout(resolve, 100))
  for (const seen of board.history) t.notOk(seen[1] && seen[2], `never both on: ${JSON.stringify(seen)}`)
  t.ok(board.history.length >= 5)
})

t.test('momentary: on while held, released when the panel socket is destroyed, or after hold_ms', async t => {
  const { app, clock, board, panel } = await setup(t)
  await set(panel, board.uuid, { channel: 3, action: 'on', duration_ms: 5000 })
  await waitFor(() => board.state.get(3) === true)
  panel.stream.destroy()
  await waitFor(() => board.state.get(3) === false)
  t.same(actions(board), ['on3', 'off3'], 'released with no time passing')

  const { client: other } = await userClient(t, app, 'operator')
  await set(other, board.uuid, { channel: 3, action: 'on' })
  await waitFor(() => board.state.get(3) === true)
  await clock.tick(799)
  t.equal(board.state.get(3), true, 'still held before relays.defaultHoldMs')
  await clock.tick(1)
  await waitFor(() => board.state.get(3) === false)
  await set(other, board.uuid, { channel: 3, action: 'on', duration_ms: 60000 })
  await eventually(async () => (await events(app, 'relay_refused')).length === 1)
  t.match((await events(app, 'relay_refused'))[0].payload, { code: 'GW_ERR_RELAY_BAD_REQUEST' })
})

t.test('max_on_ms: the gateway turns the channel off by itself and logs it', async t => {
  const { app, clock, board, panel } = await setup(t)
  await set(panel, board.uuid, { channel: 4, action: 'on' })
  await waitFor(() => board.state.get(4) === true)
  await clock.tick(1999)
  t.same(actions(board), ['on4'])
  await clock.tick(1)
  await waitFor(() => board.state.get(4) === false)
  await eventually(async () => (await events(app, 'relay_max_on')).length === 1)
  t.match((await events(app, 'relay_max_on'))[0], {
    level: 'warning',
    target: `${board.uuid}/4`,
    payload: { max_on_ms: 2000 }
  })
})

t.test('pulse carries its duration; current_state only from the board report; refusals are events', async t => {
  const { app, board, panel } = await setup(t)
  await set(panel, board.uuid, { channel: 5, action: 'pulse' })
  await waitFor(() => actions(board).length === 1)
  t.match(board.commands[0].body, { channel: 5, action: 'pulse', duration_ms: 250 })
  await set(panel, board.uuid, { channel: 4, action: 'on' })
  await waitFor(() => board.state.get(4) === true)
  const repo = app.gateway.services.db.dataSource.getRepository(RelayChannel)
  await eventually(async () => (await repo.findOneByOrFail({ channelNumber: 4 })).currentState === true)
  await set(panel, board.uuid, { channel: 9, action: 'on' })
  await set(panel, board.uuid, { channel: 6, action: 'on' })
  await eventually(async () => (await events(app, 'relay_refused')).length === 2)
  t.same((await events(app, 'relay_refused')).map(e => e.payload?.code).sort(), [
    'GW_ERR_RELAY_DISABLED',
    'GW_ERR_RELAY_NOT_FOUND'
  ])
  // A request that fails the relaySet schema is refused by the payload guard (SPEC §3) before the relay handler.
  await set(panel, board.uuid, { channel: 'x', action: 'on' })
  await eventually(async () => (await events(app, 'payload_invalid')).length === 1)
  t.match((await events(app, 'payload_invalid'))[0], {
    level: 'warning',
    target: `autocore/relays/${board.uuid}/set`,
    payload: { reason: /channel/ }
  })
  t.equal((await events(app, 'relay_refused')).length, 2)
  t.notOk(board.commands.some(c => c.body.channel === 'x'), 'the board got nothing for it')
})

t.test('desired vs current: an acked command the board does not carry out is a mismatch event after the ' +
  'timeout', async t => {
  const { app, clock, board, panel } = await setup(t, 'ack-only')
  await set(panel, board.uuid, { channel: 4, action: 'on' })
  await waitFor(() => actions(board).length === 1)
  const repo = app.gateway.services.db.dataSource.getRepository(RelayChannel)
  await eventually(async () => (await repo.findOneByOrFail({ channelNumber: 4 })).desiredState === true)
  t.equal((await repo.findOneByOrFail({ channelNumber: 4 })).currentState, null, 'not optimistic: nothing reported yet')
  await new Promise(resolve => setTimeout(resolve, 50))
  await clock.tick(1000)
  await eventually(async () => (await events(app, 'relay_state_mismatch')).length === 1)
  t.match((await events(app, 'relay_state_mismatch'))[0].payload, { desired: true, current: null })
})

t.test('the service API (for the HTTP API) follows the same rules', async t => {
  const { app, board } = await setup(t)
  const relays = app.gateway.services.relays
  const r = await relays.setChannel({ deviceUuid: board.uuid, channel: 1, action: 'on', source: 'api', user: 'alice' })
  t.match(await r.outcome, { status: 'acked' })
  const r2 = await relays.setChannel({
    deviceUuid: board.uuid,
    channel: 2,
    action: 'toggle',
    source: 'api',
    user: 'alice'
  })
  t.same(r2.turnedOff.length, 1)
  t.match(await r2.outcome, { status: 'acked' })
  const h = await relays.hold({ deviceUuid: board.uuid, channel: 3, durationMs: 1000, source: 'api' })
  t.match(await h.outcome, { status: 'acked' })
  const rel = await relays.release({ deviceUuid: board.uuid, channel: 3, source: 'api' })
  t.match(await rel.outcome, { status: 'acked' })
  await t.rejects(relays.setChannel({ deviceUuid: 'nope-board', channel: 1, action: 'on', source: 'api' }), {
    code: 'GW_ERR_RELAY_NOT_FOUND'
  })
})

t.test('mutex: when the other channel does not confirm off, this one is not turned on', async t => {
  const { app, clock, board } = await setup(t)
  const relays = app.gateway.services.relays
  await (await relays.setChannel({ deviceUuid: board.uuid, channel: 1, action: 'on', source: 'api' })).outcome
  t.same(actions(board), ['off2', 'on1'])
  board.mode = 'silent'
  const pending = relays.setChannel({ deviceUuid: board.uuid, channel: 2, action: 'on', source: 'api' })
  pending.catch(() => {})
  await waitFor(() => actions(board).length === 3)
  await clock.tick(1000)
  await waitFor(() => actions(board).length === 4)
  await clock.tick(1000)
  await t.rejects(pending, { code: 'GW_ERR_RELAY_MUTEX_FAILED' })
  t.same(actions(board), ['off2', 'on1', 'off1', 'off1'], 'channel 2 never commanded on')
  t.equal((await events(app, 'relay_mutex_failed')).length, 1)
})

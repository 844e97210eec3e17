import t, { type Test } from 'tap'
import { EventLog, SystemStatus } from '../../entities/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { addChannels, simBoard, type SimBoard } from '../helpers/boards.js'
import { deviceClient, provisionDevice, userClient } from '../helpers/devices.js'
import { nextMessage, waitFor } from '../helpers/mqtt.js'
import type { EmergencyRecord } from '../../src/services/emergency-latch.js'

const config = { commands: { ackTimeoutMs: 1000, maxAttempts: 2, ttlMs: 60000 } }

async function events (app: RunningApp, type: string): Promise<EventLog[]> {
  return await app.gateway.services.db.dataSource
    .getRepository(EventLog)
    .find({ where: { eventType: type }, order: { id: 'ASC' } })
}

async function stored (app: RunningApp): Promise<EmergencyRecord> {
  return (await app.gateway.services.db.dataSource.getRepository(SystemStatus).findOneByOrFail({ key: 'emergency' }))
    .value as EmergencyRecord
}

async function eventually (cond: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('condition not met in time')
}

const offs = (b: SimBoard): number[] =>
  b.commands
    .filter(c => c.body.action === 'off')
    .map(c => Number(c.body.channel))
    .sort()

async function fleet (t: Test, app: RunningApp): Promise<{ a: SimBoard, b: SimBoard, offline: string }> {
  const a = await simBoard(t, app, { channels: [{ channel: 1 }, { channel: 2, mutexGroup: 'drive' }] })
  const b = await simBoard(t, app, { channels: [{ channel: 1, maxOnMs: 5000 }] })
  const { uuid: offline } = await provisionDevice(app)
  await addChannels(app, offline, [{ channel: 1 }])
  await waitFor(() => app.gateway.services.commands.isOnline(a.uuid) && app.gateway.services.commands.isOnline(b.uuid))
  // The retained state reached both boards: their subscriptions are complete. (Closing the broker while Aedes
  // still streams retained messages to a new subscription throws LEVEL_ITERATOR_NOT_OPEN from the level store.)
  await nextMessage(a.client, 'autocore/emergency/state')
  await nextMessage(b.client, 'autocore/emergency/state')
  return { a, b, offline }
}

t.test('emergency from a panel: persisted, broadcast, retained state, every channel off, critical event, ' +
  'roll-call', async t => {
  const app = await startApp(t, { clock: new FakeClock(), config })
  const { a, b, offline } = await fleet(t, app)
  const { client: watcher } = await userClient(t, app, 'viewer')
  await watcher.subscribeAsync('autocore/emergency/#', { qos: 1 })
  const { client: panel, username: operator } = await userClient(t, app, 'operator')
  await panel.publishAsync('autocore/emergency/stop', JSON.stringify({ reason: 'driver pressed stop' }), { qos: 1 })
  // PUBACK came after the state was persisted.
  t.match(await stored(app), { active: true, reason: 'driver pressed stop' })
  const stop = JSON.parse((await nextMessage(watcher, 'autocore/emergency/stop')).payload.toString())
  t.match(stop, { reason: 'driver pressed stop', source: `user:${operator}` })
  // The first state seen is the retained one of the start (inactive); then the active one.
  t.match(JSON.parse((await nextMessage(watcher, 'autocore/emergency/state')).payload.toString()), { active: false })
  const state = await nextMessage(watcher, 'autocore/emergency/state')
  t.match(JSON.parse(state.payload.toString()), { active: true, reason: 'driver pressed stop' })
  await waitFor(() => offs(a).length === 2 && offs(b).length === 1)
  t.same(offs(a), [1, 2])
  t.same(offs(b), [1])
  t.ok(a.commands.every(c => c.topic === `autocore/relays/${a.uuid}/command` && typeof c.body.command_id === 'string'))
  await eventually(async () => {
    const r = await stored(app)
    return r.roll_call[a.uuid] === 'acked' && r.roll_call[b.uuid] === 'acked'
  })
  t.match((await stored(app)).roll_call, { [a.uuid]: 'acked', [b.uuid]: 'acked', [offline]: 'pending' })
  const [ev] = await events(app, 'emergency_stop')
  t.match(ev, { level: 'critical', action: 'stop', payload: { reason: 'driver pressed stop', boards: 3 } })
  t.equal(app.gateway.services.emergency.record.active, true)
})

t.test('lockout: while active, relay-on, pulse, hold and macros are refused with a reason; off still ' +
  'works', async t => {
  const app = await startApp(t, { clock: new FakeClock(), config })
  const { a } = await fleet(t, app)
  await app.gateway.services.emergency.trigger({ reason: 'test', actor: { kind: 'gateway' } })
  await waitFor(() => offs(a).length === 2)
  const before = a.commands.length
  const relays = app.gateway.services.relays
  for (const action of ['on', 'pulse', 'toggle'] as const) {
    await t.rejects(relays.setChannel({ deviceUuid: a.uuid, channel: 1, action, source: 'api' }), {
      code: 'GW_ERR_EMERGENCY_ACTIVE'
    })
  }
  await t.rejects(relays.hold({ deviceUuid: a.uuid, channel: 1, durationMs: 100, source: 'api' }), {
    code: 'GW_ERR_EMERGENCY_ACTIVE'
  })
  await t.rejects(app.gateway.services.macros.run({ macroId: 1, source: 'api' }), { code: 'GW_ERR_EMERGENCY_ACTIVE' })
  const { client: panel } = await userClient(t, app, 'operator')
  await panel.publishAsync(`autocore/relays/${a.uuid}/set`, JSON.stringify({ channel: 2, action: 'on' }), { qos: 1 })
  await panel.publishAsync('autocore/macros/1/run', '{}', { qos: 1 })
  await eventually(
    async () => (await events(app, 'relay_refused')).length === 1 && (await events(app, 'macro_refused')).length === 1
  )
  t.match((await events(app, 'relay_refused'))[0].payload, {
    code: 'GW_ERR_EMERGENCY_ACTIVE',
    message: /emergency stop active/
  })
  t.match((await events(app, 'macro_refused'))[0].payload, { code: 'GW_ERR_EMERGENCY_ACTIVE' })
  t.equal(a.commands.length, before, 'the board got no on-command')
  const off = await relays.setChannel({ deviceUuid: a.uuid, channel: 1, action: 'off', source: 'api' })
  t.match(await off.outcome, { status: 'acked' })
  const again = await app.gateway.services.emergency.trigger({ reason: 'twice', actor: { kind: 'gateway' } })
  t.equal(again.reason, 'test', 'a second stop while active changes nothing')
})

t.test('emergency from a button device; reset by admin ends it and is logged; reset needs an admin', async t => {
  const app = await startApp(t, { clock: new FakeClock(), config })
  const { a } = await fleet(t, app)
  const { client: button, uuid } = await deviceClient(t, app, {
    type: 'emergency_button',
    capabilities: ['emergency_button']
  })
  await button.publishAsync('autocore/emergency/stop', '{"reason":"button"}', { qos: 1 })
  t.match(await stored(app), { active: true, reason: 'button', source: new RegExp(uuid) })
  await waitFor(() => offs(a).length === 2)
  const emergency = app.gateway.services.emergency
  await t.rejects(emergency.reset({ actor: { kind: 'user', username: 'olga', role: 'operator' } }), {
    code: 'GW_ERR_EMERGENCY_FORBIDDEN'
  })
  await t.rejects(emergency.trigger({ actor: { kind: 'user', username: 'vic', role: 'viewer' } }), {
    code: 'GW_ERR_EMERGENCY_FORBIDDEN'
  })
  await t.rejects(emergency.trigger({ actor: { kind: 'device', uuid: 'x', capabilities: [] } }), {
    code: 'GW_ERR_EMERGENCY_FORBIDDEN'
  })
  t.equal(emergency.record.active, true)
  const { client: watcher } = await userClient(t, app, 'viewer')
  await watcher.subscribeAsync('autocore/emergency/reset', { qos: 1 })
  const { client: admin, username: adminName } = await userClient(t, app, 'admin')
  await admin.publishAsync('autocore/emergency/reset', '{}', { qos: 1 })
  t.match(await stored(app), { active: false, reset_by: adminName, reason: 'button' })
  await nextMessage(watcher, 'autocore/emergency/reset')
  const { client: fresh } = await userClient(t, app, 'viewer')
  await fresh.subscribeAsync('autocore/emergency/state', { qos: 1 })
  t.same(JSON.parse((await nextMessage(fresh, 'autocore/emergency/state')).payload.toString()), {
    active: false,
    reason: null,
    source: null,
    since: null
  })
  await eventually(async () => (await events(app, 'emergency_reset')).length === 1)
  const api = await emergency.reset({ actor: { kind: 'user', username: 'root', role: 'admin' } })
  t.equal(api.active, false, 'a reset when not active is a no-op')
  const on = await app.gateway.services.relays.setChannel({
    deviceUuid: a.uuid,
    channel: 1,
    action: 'on',
    source: 'api'
  })
  t.match(await on.outcome, { status: 'acked' }, 'relays work again')
})

t.test('the emergency survives a restart: comes back active, re-publishes the state, keeps the lockout', async t => {
  const clock = new FakeClock()
  const dataDir = t.testdir()
  const first = await startApp(t, { clock, config, dataDir })
  const { a } = await fleet(t, first)
  await first.gateway.services.emergency.trigger({
    reason: 'fire',
    actor: { kind: 'user', username: 'ana', role: 'operator' }
  })
  await first.stop()
  const second = await startApp(t, { clock, config, dataDir })
  t.equal(second.gateway.services.emergency.record.active, true)
  t.ok(second.logs.some(l => l.msg === 'emergency stop still active'))
  const { client: panel } = await userClient(t, second, 'viewer')
  await panel.subscribeAsync('autocore/emergency/state', { qos: 1 })
  const msg = await nextMessage(panel, 'autocore/emergency/state')
  t.equal(msg.packet.retain, true)
  t.match(JSON.parse(msg.payload.toString()), { active: true, reason: 'fire', source: 'user:ana' })
  await t.rejects(
    second.gateway.services.relays.setChannel({ deviceUuid: a.uuid, channel: 1, action: 'on', source: 'api' }),
    { code: 'GW_ERR_EMERGENCY_ACTIVE' }
  )
})

t.test('roll-call: a board that never acknowledges its off-command is listed as not acknowledged', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config })
  const { a, b } = await fleet(t, app)
  b.mode = 'silent'
  await app.gateway.services.emergency.trigger({ reason: 'test', actor: { kind: 'gateway' } })
  await waitFor(() => offs(a).length === 2 && offs(b).length === 1)
  await eventually(async () => (await stored(app)).roll_call[a.uuid] === 'acked')
  t.equal((await stored(app)).roll_call[b.uuid], 'pending')
  await clock.tick(1000)
  await waitFor(() => offs(b).length === 2)
  await clock.tick(1000)
  await eventually(async () => (await stored(app)).roll_call[b.uuid] === 'timeout')
  t.match(app.gateway.services.emergency.record.roll_call, { [a.uuid]: 'acked', [b.uuid]: 'timeout' })
})

t.test('a stop is never lost over its payload: a long reason, a wrong type or no JSON still stops ' +
  'everything', async t => {
  for (const payload of [JSON.stringify({ reason: 'r'.repeat(300) }), JSON.stringify({ reason: 7 }), 'STOP', '']) {
    const app = await startApp(t, { clock: new FakeClock(), config })
    const { client: button, uuid } = await deviceClient(t, app, {
      type: 'emergency_button',
      capabilities: ['emergency_button']
    })
    await button.publishAsync('autocore/emergency/stop', payload, { qos: 1 })
    t.match(await stored(app), { active: true, source: `device:${uuid}` }, `stopped on ${payload.slice(0, 20)}`)
    t.equal((await events(app, 'emergency_stop')).length, 1)
    await app.stop()
  }
})

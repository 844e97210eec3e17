import t, { type Test } from 'tap'
import { EventLog, Macro, MacroAction, MacroRun, TelemetryData, Device } from '../../entities/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { simBoard, type SimBoard } from '../helpers/boards.js'
import { userClient } from '../helpers/devices.js'
import { nextMessage, waitFor } from '../helpers/mqtt.js'

const config = { commands: { ackTimeoutMs: 1000, maxAttempts: 2, ttlMs: 60000 } }

async function eventually (cond: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('condition not met in time')
}

type Step = Pick<MacroAction, 'actionType' | 'params'> & { condition?: Record<string, unknown> }

async function macro (app: RunningApp, name: string, steps: Step[], enabled = true): Promise<number> {
  const ds = app.gateway.services.db.dataSource
  const r = await ds.getRepository(Macro).insert({ name, enabled, createdAt: 0, updatedAt: 0 })
  const id = r.identifiers[0].id as number
  for (const [i, s] of steps.entries()) {
    await ds
      .getRepository(MacroAction)
      .insert({
        macroId: id,
        position: i + 1,
        actionType: s.actionType,
        params: s.params,
        condition: s.condition ?? null
      } as never)
  }
  return id
}

async function runs (app: RunningApp, macroId: number): Promise<MacroRun[]> {
  return await app.gateway.services.db.dataSource
    .getRepository(MacroRun)
    .find({ where: { macroId }, order: { id: 'ASC' } })
}

async function events (app: RunningApp, type: string): Promise<EventLog[]> {
  return await app.gateway.services.db.dataSource
    .getRepository(EventLog)
    .find({ where: { eventType: type }, order: { id: 'ASC' } })
}

const relayActions = (b: SimBoard): string[] =>
  b.commands
    .filter(c => c.topic.startsWith('autocore/relays/'))
    .map(c => `${String(c.body.action)}${String(c.body.channel)}`)

async function setup (
  t: Test
): Promise<{ app: RunningApp, clock: FakeClock, board: SimBoard, ids: Record<number, number> }> {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config })
  const board = await simBoard(t, app, { channels: [{ channel: 1 }, { channel: 2 }] })
  await waitFor(() => app.gateway.services.commands.isOnline(board.uuid))
  const { RelayChannel } = await import('../../entities/index.js')
  const rows = await app.gateway.services.db.dataSource.getRepository(RelayChannel).find()
  return { app, clock, board, ids: Object.fromEntries(rows.map(r => [r.channelNumber, r.id])) }
}

t.test('a macro over MQTT: ordered steps with a delay, a false condition skipped, progress events, one run at a ' +
  'time', async t => {
  const { app, clock, board, ids } = await setup(t)
  const id = await macro(app, 'lights', [
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } },
    { actionType: 'delay', params: { ms: 1500 } },
    {
      actionType: 'relay',
      params: { device_uuid: board.uuid, channel: 2, action: 'on' },
      condition: { relay: ids[1], is: 'off' }
    },
    {
      actionType: 'command',
      params: { device_uuid: board.uuid, command: 'beep', params: { n: 2 } },
      condition: { relay: ids[1], is: 'on' }
    },
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'off' } }
  ])
  const { client: panel } = await userClient(t, app, 'operator')
  await panel.publishAsync(`autocore/macros/${id}/run`, '{}', { qos: 1 })
  await waitFor(() => relayActions(board).length === 1)
  await eventually(() => app.gateway.services.macros.isRunning(id))
  await panel.publishAsync(`autocore/macros/${id}/run`, '{}', { qos: 1 })
  await eventually(async () => (await events(app, 'macro_refused')).length === 1)
  t.match((await events(app, 'macro_refused'))[0].payload, { code: 'GW_ERR_MACRO_RUNNING' })
  await eventually(async () =>
    (await events(app, 'macro_progress')).some(e => e.payload?.type === 'relay' && e.payload?.step === 1)
  )
  await clock.tick(1499)
  t.same(relayActions(board), ['on1'], 'still in the delay')
  await clock.tick(1)
  await eventually(async () => (await runs(app, id))[0].status === 'completed')
  t.same(relayActions(board), ['on1', 'off1'], 'the false condition skipped channel 2')
  t.match(board.commands.find(c => c.body.command === 'beep')?.body, { command: 'beep', params: { n: 2 } })
  const steps = (await events(app, 'macro_progress')).map(e =>
    e.payload?.status === 'skipped' ? `skip${String(e.payload.step)}` : String(e.payload?.status)
  )
  t.same(steps, ['started', 'done', 'done', 'skip3', 'done', 'done', 'completed'])
  t.match((await runs(app, id))[0], { status: 'completed', source: 'mqtt', currentStep: 5 })
})

t.test('cancel stops a run in its delay; an emergency stop cancels every run', async t => {
  const { app, clock, board } = await setup(t)
  const steps: Step[] = [
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } },
    { actionType: 'delay', params: { ms: 10000 } },
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 2, action: 'on' } }
  ]
  const a = await macro(app, 'a', steps)
  const b = await macro(app, 'b', [{ actionType: 'delay', params: { ms: 10000 } }])
  const macros = app.gateway.services.macros
  const runA = await macros.run({ macroId: a, source: 'api', user: 'alice' })
  await eventually(async () => (await runs(app, a))[0].currentStep === 2)
  t.equal(macros.cancel(a, 'operator changed their mind'), true)
  t.equal(await runA.done, 'cancelled')
  t.match((await runs(app, a))[0], { status: 'cancelled', message: 'operator changed their mind', username: 'alice' })
  await clock.tick(20000)
  t.same(relayActions(board), ['on1'], 'nothing after the cancel')
  t.equal(macros.cancel(a), false, 'nothing left to cancel')

  const again = await macros.run({ macroId: a, source: 'api' })
  const runB = await macros.run({ macroId: b, source: 'api' })
  await eventually(async () => (await runs(app, a))[1]?.currentStep === 2)
  await app.gateway.services.emergency.trigger({ reason: 'stop all', actor: { kind: 'gateway' } })
  t.same(await Promise.all([again.done, runB.done]), ['cancelled', 'cancelled'])
  t.match((await runs(app, b))[0], { status: 'cancelled', message: 'emergency stop' })
})

t.test('mqtt_publish only on allowed topics; telemetry conditions; refusals for unknown or disabled ' +
  'macros', async t => {
  const { app, board } = await setup(t)
  const ds = app.gateway.services.db.dataSource
  const device = await ds.getRepository(Device).findOneByOrFail({ uuid: board.uuid })
  await ds.getRepository(TelemetryData).insert({ deviceId: device.id, key: 'temp', value: 42, ts: 1 } as never)
  // autocore/display/# (macros.publishTopics) is outside the SPEC §3 contract: only admins may read it.
  const { client: watcher } = await userClient(t, app, 'admin')
  await watcher.subscribeAsync('autocore/display/#', { qos: 1 })
  const ok = await macro(app, 'notify', [
    {
      actionType: 'mqtt_publish',
      params: { topic: 'autocore/display/banner', payload: { text: 'hot' } },
      condition: { telemetry: { uuid: board.uuid, key: 'temp' }, op: '>', value: 40 }
    },
    {
      actionType: 'mqtt_publish',
      params: { topic: 'autocore/display/never', payload: {} },
      condition: { telemetry: { uuid: board.uuid, key: 'temp' }, op: '<', value: 40 }
    }
  ])
  const macros = app.gateway.services.macros
  t.equal(await (await macros.run({ macroId: ok, source: 'api' })).done, 'completed')
  t.same(JSON.parse((await nextMessage(watcher, 'autocore/display/banner')).payload.toString()), { text: 'hot' })
  const bad = await macro(app, 'spoof', [
    {
      actionType: 'mqtt_publish',
      params: { topic: `autocore/relays/${board.uuid}/command`, payload: { channel: 1, action: 'on' } }
    }
  ])
  t.equal(await (await macros.run({ macroId: bad, source: 'api' })).done, 'failed')
  t.match((await runs(app, bad))[0].message, /topic not allowed/)
  t.same(relayActions(board), [], 'no relay command went out')
  await t.rejects(macros.run({ macroId: 999, source: 'api' }), { code: 'GW_ERR_MACRO_NOT_FOUND' })
  const off = await macro(app, 'off', [], false)
  await t.rejects(macros.run({ macroId: off, source: 'api' }), { code: 'GW_ERR_MACRO_DISABLED' })
  const failing = await macro(app, 'fails', [
    { actionType: 'command', params: { device_uuid: 'ghost-board', command: 'x' } }
  ])
  t.equal(await (await macros.run({ macroId: failing, source: 'api' })).done, 'failed')
  t.match((await runs(app, failing))[0].message, /step 1 \(command\): no device ghost-board/)
})

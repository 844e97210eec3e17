import t from 'tap'
import { MacroAction } from '../../entities/index.js'
import { startApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { waitFor } from '../helpers/mqtt.js'
import { harness } from './cases/harness.js'
import { eventually } from './cases/macros.js'
import { onlineBoard } from './cases/relays.js'

const relayActions = (b: { commands: Array<{ topic: string, body: Record<string, any> }> }): string[] =>
  b.commands
    .filter(c => c.topic.startsWith('autocore/relays/'))
    .map(c => `${String(c.body.action)}${String(c.body.channel)}`)

t.test('a macro over the API: created, executed (one run at a time), cancelled in its delay, its runs ' +
  'listed', async t => {
  const clock = new FakeClock()
  const h = harness(await startApp(t, { clock }), t)
  const [admin, op, viewer] = [await h.token('admin'), await h.token('operator'), await h.token('viewer')]
  const { board } = await onlineBoard(h, [{ channel: 1 }, { channel: 2 }])
  const created = await h.call('POST', '/macros', {
    token: admin,
    body: {
      name: 'doors',
      actions: [
        { type: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } },
        { type: 'delay', params: { ms: 10_000 } },
        { type: 'relay', params: { device_uuid: board.uuid, channel: 2, action: 'on' } }
      ]
    }
  })
  t.equal(created.status, 201)
  const id = created.body.id as number

  const exec = await h.call('POST', `/macros/${id}/execute`, { token: op })
  t.match(exec, { status: 202, body: { runId: Number, macroId: id, status: 'running' } })
  await waitFor(() => relayActions(board).length === 1)
  await eventually(async () => (await h.app.gateway.services.repos.macros.run(exec.body.runId))?.currentStep === 2)
  t.match(
    await h.call('POST', `/macros/${id}/execute`, { token: op }),
    { status: 409, body: { error: { code: 'GW_ERR_MACRO_RUNNING' } } },
    'one run at a time'
  )

  const cancel = await h.call('POST', `/macros/${id}/cancel`, { token: op })
  t.match(cancel, {
    status: 200,
    body: {
      id: exec.body.runId,
      macroId: id,
      status: 'cancelled',
      currentStep: 2,
      message: /^cancelled by operator-/,
      finishedAt: String
    }
  })
  await clock.tick(20_000)
  t.same(relayActions(board), ['on1'], 'nothing after the cancel')
  t.match(
    await h.call('POST', `/macros/${id}/cancel`, { token: op }),
    { status: 409, body: { error: { code: 'GW_ERR_MACRO_NOT_RUNNING' } } },
    'nothing left to cancel'
  )

  // Again, to the end this time.
  const second = await h.call('POST', `/macros/${id}/execute`, { token: op })
  t.equal(second.status, 202)
  await eventually(async () => (await h.app.gateway.services.repos.macros.run(second.body.runId))?.currentStep === 2)
  await clock.tick(10_000)
  await eventually(
    async () => (await h.app.gateway.services.repos.macros.run(second.body.runId))?.status === 'completed'
  )
  t.same(relayActions(board), ['on1', 'on1', 'on2'])

  const runs = await h.call('GET', `/macros/${id}/runs`, { token: viewer })
  t.match(
    runs.body,
    {
      total: 2,
      items: [
        { id: second.body.runId, status: 'completed', source: 'api' },
        { id: exec.body.runId, status: 'cancelled' }
      ]
    },
    'newest first'
  )
})

t.test('actions are validated with the engine\'s schema, naming the field; mqtt_publish topics are checked up ' +
  'front', async t => {
  const h = harness(await startApp(t), t)
  const admin = await h.token('admin')
  const create = async (actions: unknown[]): Promise<any> =>
    await h.call('POST', '/macros', { token: admin, body: { name: `m${Math.random()}`, actions } })

  t.match(await create([{ type: 'relay', params: { device_uuid: 'b', channel: 'one', action: 'on' } }]), {
    status: 400,
    body: { error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'body', field: '/actions/0/params/channel' }] } }
  })
  t.match(
    await create([{ type: 'delay', params: {} }]),
    { status: 400, body: { error: { details: [{ field: '/actions/0/params' }] } } },
    'a delay needs ms'
  )
  t.match(await create([{ type: 'teleport', params: {} }]), {
    status: 400,
    body: { error: { details: [{ field: '/actions/0/type' }] } }
  })
  t.match(
    await create([
      { type: 'command', params: { device_uuid: 'b', command: 'x' }, condition: { relay: 1, is: 'maybe' } }
    ]),
    { status: 400 },
    'a condition is checked too'
  )
  t.match(
    await create([{ type: 'mqtt_publish', params: { topic: 'autocore/relays/b/command' } }]),
    {
      status: 400,
      body: { error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'body', field: '/actions/0/params/topic' }] } }
    },
    'a command topic is never a macro\'s'
  )
  t.match(
    await create([
      { type: 'mqtt_publish', params: { topic: 'autocore/display/banner', payload: 'hi' } },
      { type: 'delay', params: { delay_ms: 5 } }
    ]),
    { status: 201 }
  )

  // A stored action the schema refuses (written around the API) fails its run at that step, saying why.
  const bad = await create([{ type: 'delay', params: { ms: 1 } }])
  await h.app.gateway.services.db.dataSource
    .getRepository(MacroAction)
    .update({ macroId: bad.body.id }, { params: { ms: -5 } })
  const exec = await h.call('POST', `/macros/${bad.body.id as number}/execute`, { token: await h.token('operator') })
  await eventually(async () => (await h.app.gateway.services.repos.macros.run(exec.body.runId))?.status === 'failed')
  t.match(await h.app.gateway.services.repos.macros.run(exec.body.runId), {
    message: /^step 1 \(delay\): invalid action: \/params\/ms must be >= 0/
  })
})

t.test('deleting a running macro cancels its run first', async t => {
  const h = harness(await startApp(t), t)
  const created = await h.call('POST', '/macros', {
    token: await h.token('admin'),
    body: { name: 'long', actions: [{ type: 'delay', params: { ms: 3_600_000 } }] }
  })
  const id = created.body.id as number
  const started = await h.app.gateway.services.macros.run({ macroId: id, source: 'api' })
  t.equal((await h.call('DELETE', `/macros/${id}`, { token: await h.token('admin') })).status, 204)
  t.equal(await started.done, 'cancelled')
  t.equal(h.app.gateway.services.macros.isRunning(id), false)
  t.match(await h.call('GET', `/macros/${id}`, { token: await h.token('viewer') }), {
    status: 404,
    body: { error: { code: 'GW_ERR_MACRO_NOT_FOUND' } }
  })
})

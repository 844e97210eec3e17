import t from 'tap'
import type { InboundMessage } from '../../src/broker/pipeline.js'
import { InboundService, type InboundParts } from '../../src/gateway/inbound.js'
import { startApp } from '../helpers/app.js'
import { waitFor } from '../helpers/mqtt.js'
import { deviceClient, userClient } from '../helpers/devices.js'

// Global steps that let everything through: these tests look at the handlers.
const pass = (): 'deliver' => 'deliver'
const parts = { counts: { inbound: pass }, presence: { touchStep: pass } } as unknown as InboundParts

t.test('handlers get the sender\'s principal and the validated body; their errors are logged, not fatal', async t => {
  const app = await startApp(t)
  const got: InboundMessage[] = []
  const inbound = new InboundService(app.gateway.services, parts, {
    deviceAnnounce: { handle: m => { got.push(m) } },
    relaySet: { handle: async () => { throw new Error('kaput') } },
    macroRun: { handle: () => { throw new Error('sync kaput') } }
  })
  await inbound.start()
  t.teardown(() => inbound.stop())
  const { client: c } = await deviceClient(t, app, { uuid: 'esp32-001' })
  const { client: admin } = await userClient(t, app, 'admin', { transport: 'tcp' })
  await c.publishAsync('autocore/devices/esp32-001/announce', '{"type":"relay_board"}', { qos: 1 })
  await admin.publishAsync('autocore/relays/esp32-001/set', '{"channel":1,"action":"on"}', { qos: 1 })
  await admin.publishAsync('autocore/macros/1/run', '{}', { qos: 1 })
  await admin.publishAsync('autocore/devices/esp32-001/announce/extra', '{}', { qos: 1 })
  await waitFor(() => got.length === 1 && app.logs.filter(l => l.msg === 'handler failed').length === 2)
  t.match(got[0], {
    family: 'deviceAnnounce',
    params: { uuid: 'esp32-001' },
    body: { type: 'relay_board' },
    principal: { kind: 'device', uuid: 'esp32-001' },
    client: { id: 'esp32-001' },
    packet: { topic: 'autocore/devices/esp32-001/announce', qos: 1, retain: false }
  })
  const failures = app.logs.filter(l => l.msg === 'handler failed').map(l => (l.err as { message: string }).message)
  t.same(failures.sort(), ['kaput', 'sync kaput'])
})

t.test('the gateway\'s own publish on a handled family is handled as the gateway\'s, once validated', async t => {
  const app = await startApp(t)
  const ctx = app.gateway.services
  const got: InboundMessage[] = []
  const inbound = new InboundService(ctx, parts, { relaySet: { handle: m => { got.push(m) } } })
  await inbound.start()
  t.teardown(() => inbound.stop())
  await ctx.broker.publish('autocore/relays/r1/set', { channel: 2, action: 'off' })
  await ctx.broker.publish('autocore/relays/r1/set', { channel: 'x' })
  await waitFor(() => got.length === 1 && app.logs.some(l => l.msg === 'gateway publish not handled'))
  t.match(got[0], { family: 'relaySet', params: { uuid: 'r1' }, body: { channel: 2, action: 'off' } })
  t.equal(got[0].principal, undefined, 'no principal: the gateway itself')
})

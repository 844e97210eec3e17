import t from 'tap'
import { GatewayRouter, type InboundMessage } from '../../src/gateway/router.js'
import { startApp } from '../helpers/app.js'
import { waitFor } from '../helpers/mqtt.js'
import { deviceClient, userClient } from '../helpers/devices.js'

t.test('the router dispatches by pattern with named params; handler errors are logged, not fatal', async t => {
  const app = await startApp(t)
  const got: InboundMessage[] = []
  const router = new GatewayRouter(app.gateway.services, [
    { pattern: 'autocore/devices/:uuid/announce', handler: m => { got.push(m) } },
    { pattern: 'autocore/devices/:uuid/boom', handler: async () => { throw new Error('kaput') } },
    { pattern: 'autocore/devices/:uuid/sync-boom', handler: () => { throw new Error('sync kaput') } }
  ])
  await router.start()
  t.teardown(() => router.stop())
  const { client: c } = await deviceClient(t, app, { uuid: 'esp32-001' })
  const { client: admin } = await userClient(t, app, 'admin', { transport: 'tcp' })
  await c.publishAsync('autocore/devices/esp32-001/announce', '{"type":"relay_board"}', { qos: 1 })
  await admin.publishAsync('autocore/devices/esp32-001/boom', '{}', { qos: 1 })
  await admin.publishAsync('autocore/devices/esp32-001/sync-boom', '{}', { qos: 1 })
  await admin.publishAsync('autocore/devices/esp32-001/announce/extra', '{}', { qos: 1 })
  await waitFor(() => got.length === 1 && app.logs.filter(l => l.msg === 'handler failed').length === 2)
  t.match(got[0], { topic: 'autocore/devices/esp32-001/announce', params: { uuid: 'esp32-001' }, qos: 1, retain: false, clientId: 'esp32-001' })
  t.equal(got[0].payload.toString(), '{"type":"relay_board"}')
  t.same(app.logs.filter(l => l.msg === 'handler failed').map(l => (l.err as { message: string }).message).sort(), ['kaput', 'sync kaput'])
})

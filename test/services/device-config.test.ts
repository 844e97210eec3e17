import t from 'tap'
import { retainedMessages } from '../../src/broker/retained.js'
import { startApp } from '../helpers/app.js'
import { provisionDevice } from '../helpers/devices.js'
import { collect, connect, nextMessage, waitFor } from '../helpers/mqtt.js'

t.test('a burst of config requests costs one publish; forget clears the retained config', async t => {
  const app = await startApp(t)
  const ctx = app.gateway.services
  const { uuid, secret } = await provisionDevice(app)
  const topic = `autocore/devices/${uuid}/config`
  // Set before the device connects, so coming online publishes nothing more.
  await ctx.deviceConfig.update(uuid, { a: 1 })
  const client = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret })
  await client.subscribeAsync(topic, { qos: 1 })
  await nextMessage(client, topic)
  const seen = collect(client)
  const before = seen.length
  await Promise.all([ctx.deviceConfig.request(uuid), ctx.deviceConfig.request(uuid), ctx.deviceConfig.request(uuid)])
  await waitFor(() => seen.length > before)
  await ctx.deviceConfig.request(uuid)
  await waitFor(() => seen.length > before + 1)
  t.equal(seen.length - before, 2, 'three queued requests answered once, the next one again')
  const deadman = {
    heartbeat_topic: `autocore/gateway/${app.config.gatewayId}/heartbeat`,
    heartbeat_ms: 1000,
    misses: 3,
    fail_safe_off: []
  }
  t.same(
    seen.slice(before).map(m => JSON.parse(m.payload)),
    [
      { version: 1, config: { a: 1 }, deadman },
      { version: 1, config: { a: 1 }, deadman }
    ]
  )

  await ctx.deviceConfig.forget(uuid)
  t.equal((await retainedMessages(ctx.broker.aedes, topic)).size, 0, 'nothing retained for a deleted device')
  const { uuid: other } = await provisionDevice(app)
  await ctx.deviceConfig.request(other)
  await ctx.deviceConfig.request('no-such-device')
  t.same(
    [...(await retainedMessages(ctx.broker.aedes, 'autocore/devices/+/config')).keys()],
    [`autocore/devices/${other}/config`],
    'an unknown device gets nothing'
  )
})

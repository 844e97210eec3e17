import t from 'tap'
import { DEVICE_ERROR_INTERVAL_MS } from '../../src/gateway/handlers/device-error.js'
import { startApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { deviceClient, userClient } from '../helpers/devices.js'
import { collect, waitFor } from '../helpers/mqtt.js'
import { startReceiver, until } from '../helpers/webhook-receiver.js'

const report = (body: object): string => JSON.stringify(body)
const EVENT = 'autocore/events/device_error'

t.test('a device\'s error report is an event: level error, its code and message, for panels and webhooks', async t => {
  const rx = await startReceiver(t)
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const { ctx } = app.gateway
  const hook = { url: rx.url, secret: 's'.repeat(16), events: ['device_*'], minLevel: 'error' as const, enabled: true }
  await ctx.repos.webhooks.create(hook, clock.now())
  const { client: panel } = await userClient(t, app, 'viewer')
  await panel.subscribeAsync('autocore/events/#', { qos: 0 })
  const seen = collect(panel)
  const { client: board, uuid } = await deviceClient(t, app)

  const topic = `autocore/devices/${uuid}/error`
  await board.publishAsync(topic, report({ code: 'E_OIL', message: 'sensor open' }), { qos: 1 })
  await waitFor(() => seen.some(m => m.topic === EVENT))
  const event = JSON.parse(seen.find(m => m.topic === EVENT)?.payload ?? '{}')
  const payload = { code: 'E_OIL', message: 'sensor open' }
  t.match(event, { level: 'error', type: 'device_error', source: `device:${uuid}`, target: uuid, payload })
  await until(() => rx.hits.some(h => h.json?.event?.type === 'device_error'))
  const hit = rx.hits.find(h => h.json?.event?.type === 'device_error')
  t.match(hit?.json, { event: { level: 'error', payload: { code: 'E_OIL' } } })

  // A device stuck in a loop: one event per interval, the next one counting what was held back.
  for (let i = 0; i < 5; i++) {
    await board.publishAsync(topic, report({ code: 7, message: `again ${i}` }), { qos: 1 })
  }
  const rows = async (): Promise<number> =>
    (await ctx.repos.events.recent({ eventType: 'device_error', limit: 100 })).length
  t.equal(await rows(), 1, 'held back within the interval')
  await clock.tick(DEVICE_ERROR_INTERVAL_MS)
  await board.publishAsync(topic, report({ code: 7, message: 'later' }), { qos: 1 })
  await waitFor(() => seen.filter(m => m.topic === EVENT).length === 2)
  const last = JSON.parse(seen.filter(m => m.topic === EVENT)[1].payload)
  t.match(last.payload, { code: 7, message: 'later', suppressed: 5 })

  // A dead-man report is its own event, never held back.
  const deadman = { code: 'deadman_tripped', message: 'no heartbeat', channels_off: [1] }
  await board.publishAsync(topic, report(deadman), { qos: 1 })
  await waitFor(() => seen.some(m => m.topic === 'autocore/events/deadman_tripped'))
})

t.test('a report that fails the schema, or made for another device, is no event', async t => {
  const app = await startApp(t)
  const { client: panel } = await userClient(t, app, 'viewer')
  await panel.subscribeAsync('autocore/events/#', { qos: 0 })
  const seen = collect(panel)
  const { client: board, uuid } = await deviceClient(t, app)
  const topic = `autocore/devices/${uuid}/error`
  await board.publishAsync(topic, report({ code: 'E' }), { qos: 1 })
  await board.publishAsync(topic, report({ code: 'E', message: 'x'.repeat(2000) }), { qos: 1 })
  const { client: admin } = await userClient(t, app, 'admin')
  const closed = new Promise(resolve => admin.once('close', resolve))
  admin.publish(topic, report({ code: 'E', message: 'spoof' }), { qos: 1 })
  await closed
  await board.publishAsync(topic, report({ code: 'E_OK', message: 'real' }), { qos: 1 })
  await waitFor(() => seen.some(m => m.topic === EVENT))
  const events = seen.filter(m => m.topic === EVENT).map(m => JSON.parse(m.payload).payload.code)
  t.same(events, ['E_OK'], 'only the valid report of the device itself')
})

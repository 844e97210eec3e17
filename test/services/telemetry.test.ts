import t, { type Test } from 'tap'
import { startApp, type RunningApp } from '../helpers/app.js'
import { deviceClient, userClient } from '../helpers/devices.js'
import { waitFor, type Client } from '../helpers/mqtt.js'
import { familyTopic, topicOf } from '../../src/protocol/index.js'

interface Row {
  device_id: number
  key: string
  value: number | null
  value_text: string | null
  unit: string | null
  data_type: string
  ts: number
}

async function rows (app: RunningApp): Promise<Row[]> {
  return await app.gateway.services.db.dataSource.query(
    'SELECT device_id, key, value, value_text, unit, data_type, ts FROM telemetry_data ORDER BY id'
  )
}

/** A device, a viewer watching every telemetry topic (`seen`), and the payload guard's refusals (`invalid`). */
async function watchedDevice (
  t: Test,
  app: RunningApp
): Promise<{ client: Client; uuid: string; seen: string[]; invalid: string[] }> {
  const { client, uuid } = await deviceClient(t, app)
  const { client: watcher } = await userClient(t, app, 'viewer')
  await watcher.subscribeAsync([familyTopic('deviceTelemetry'), familyTopic('telemetryData')], { qos: 1 })
  const seen: string[] = []
  watcher.on('message', topic => seen.push(topic))
  const invalid: string[] = []
  app.gateway.services.bus.on('mqtt.payload_invalid', e => invalid.push(e.reason))
  return { client, uuid, seen, invalid }
}

t.test('both topic forms and both payload shapes become rows; QoS 1 is acknowledged only once committed', async t => {
  const app = await startApp(t, { config: { telemetry: { flushIntervalMs: 50, batchSize: 1000 } } })
  const { client, uuid } = await deviceClient(t, app)
  await client.publishAsync(
    topicOf('deviceTelemetry', { uuid }),
    JSON.stringify({ temp: 21.5, hum: { value: 40, unit: '%' }, ts: 1767225600 }),
    { qos: 1 }
  )
  // PUBACK came back: the batch is committed, no waiting needed.
  const after = await rows(app)
  t.equal(after.length, 2)
  t.match(after[0], { key: 'temp', value: 21.5, unit: null, data_type: 'number', ts: 1767225600000 })
  t.match(after[1], { key: 'hum', value: 40, unit: '%' })

  await client.publishAsync(
    topicOf('telemetryData', { uuid }),
    JSON.stringify({ door: true, mode: 'eco', ts: '2026-01-01T00:00:01.000Z' }),
    { qos: 1 }
  )
  const all = await rows(app)
  t.match(all.slice(2), [
    { key: 'door', value: 1, data_type: 'boolean', ts: Date.parse('2026-01-01T00:00:01Z') },
    { key: 'mode', value: null, value_text: 'eco', data_type: 'string' }
  ])
})

t.test('QoS 0 is written on the flush interval, without ts the receive time is used', async t => {
  const app = await startApp(t, { config: { telemetry: { flushIntervalMs: 20 } } })
  const { client, uuid } = await deviceClient(t, app)
  const before = Date.now()
  await client.publishAsync(topicOf('deviceTelemetry', { uuid }), '{"v":1}', { qos: 0 })
  await waitFor(() => app.gateway.services.telemetry.state().written === 1)
  const [r] = await rows(app)
  t.ok(Number(r.ts) >= before && Number(r.ts) <= Date.now(), 'receive time')
})

t.test('payloads the telemetry schema refuses are dropped by the payload guard before the telemetry step: ' +
  'acknowledged, stored nowhere, delivered to nobody', async t => {
  const app = await startApp(t)
  const { client, uuid, seen, invalid } = await watchedDevice(t, app)
  // Not JSON, not an object, empty, a null reading, text over 255, a non-string unit, a number that is not finite: all
  // schema violations.
  for (const payload of [
    'not json',
    '[1]',
    '{}',
    '{"x":null}',
    '{"x":"' + 'a'.repeat(300) + '"}',
    '{"x":{"value":1,"unit":5}}',
    '{"x":1e999}'
  ]) {
    await client.publishAsync(topicOf('deviceTelemetry', { uuid }), payload, { qos: 1 })
  }
  await client.publishAsync(topicOf('deviceTelemetry', { uuid }), '{"ok":1}', { qos: 1 })
  await waitFor(() => seen.length === 1)
  t.same(seen, [topicOf('deviceTelemetry', { uuid })], 'only the valid message was delivered')
  t.equal((await rows(app)).length, 1)
  t.equal(invalid.length, 7, 'each refused by the payload guard')
  t.equal(invalid[0], 'payload is not valid JSON')
  t.equal(app.gateway.services.telemetry.state().refused, 0, 'the telemetry step never saw them')
})

t.test('schema-valid payloads the telemetry step refuses (ts, key length, reading count, no readings) are dropped, ' +
  'counted, logged', async t => {
  const app = await startApp(t, { config: { telemetry: { maxPayloadKeys: 3 } } })
  const { client, uuid, seen, invalid } = await watchedDevice(t, app)
  const refusedByStep = [
    '{"ts":"yesterday","x":1}',
    '{"ts":-5,"x":1}',
    JSON.stringify({ ['k'.repeat(65)]: 1 }),
    '{"a":1,"b":2,"c":3,"d":4}',
    '{"ts":1767225600}'
  ]
  for (const payload of refusedByStep) {
    await client.publishAsync(topicOf('telemetryData', { uuid }), payload, { qos: 1 })
  }
  await client.publishAsync(topicOf('telemetryData', { uuid }), '{"a":1,"b":2,"c":3}', { qos: 1 })
  await waitFor(() => seen.length === 1)
  t.same(seen, [topicOf('telemetryData', { uuid })], 'only the valid message was delivered')
  t.equal((await rows(app)).length, 3)
  t.same(invalid, [], 'all passed the payload guard')
  t.equal(app.gateway.services.telemetry.state().refused, refusedByStep.length)
  const warn = app.logs.find(l => l.msg === 'telemetry message refused')
  t.match(warn, { module: 'telemetry', reason: 'ts must be epoch ms, epoch s or an ISO 8601 string', deviceUuid: uuid })
  t.equal(app.logs.filter(l => l.msg === 'telemetry message refused').length, 1, 'rate-limited')
})

t.test('unknown devices: another device\'s topic is an ACL violation (connection closed); a device deleted before ' +
  'its first reading is dropped by the telemetry step', async t => {
  const app = await startApp(t)
  const a = await deviceClient(t, app)
  const closed = new Promise(resolve => a.client.once('close', resolve))
  a.client.publish(topicOf('deviceTelemetry', { uuid: 'no-such-device' }), '{"x":1}', { qos: 0 })
  await closed
  t.equal(a.client.connected, false, 'the ACL closed the connection')
  t.equal(app.gateway.services.telemetry.state().refused, 0, 'the telemetry step never saw it')

  const b = await deviceClient(t, app)
  await app.gateway.services.db.dataSource.query('DELETE FROM devices WHERE uuid = ?', [b.uuid])
  await b.client.publishAsync(topicOf('deviceTelemetry', { uuid: b.uuid }), '{"x":2}', { qos: 1 })
  t.equal(app.gateway.services.telemetry.state().refused, 1)
  t.ok(
    app.logs.some(
      l => l.msg === 'telemetry message refused' && l.reason === 'unknown device' && l.deviceUuid === b.uuid
    )
  )
  t.equal((await rows(app)).length, 0)
})

t.test('stop writes what is buffered, including readings that arrive while stopping', async t => {
  const dataDir = t.testdir()
  const app = await startApp(t, { dataDir, config: { telemetry: { flushIntervalMs: 600000, batchSize: 100000 } } })
  const { client, uuid } = await deviceClient(t, app)
  for (let i = 0; i < 500; i++) {
    client.publish(topicOf('deviceTelemetry', { uuid }), JSON.stringify({ seq: i }), { qos: 0 })
  }
  await waitFor(() => app.gateway.services.telemetry.state().buffered === 500)
  t.equal(app.gateway.services.telemetry.state().written, 0, 'nothing written yet')
  const health = await (await fetch(`${app.httpUrl}/health`)).json()
  t.match(health.telemetry, { buffered: 500, backpressure: false })
  t.ok(health.telemetry.lagMs >= 0)
  await app.stop()
  const again = await startApp(t, { dataDir })
  t.equal((await rows(again)).length, 500)
})

t.test('a device deleted while connected: its readings are dropped, the rest of the batch is written', async t => {
  const app = await startApp(t, { config: { telemetry: { flushIntervalMs: 600000 } } })
  const a = await deviceClient(t, app)
  const b = await deviceClient(t, app)
  await b.client.publishAsync(topicOf('deviceTelemetry', { uuid: b.uuid }), '{"x":1}', { qos: 1 })
  await app.gateway.services.db.dataSource.query('DELETE FROM devices WHERE uuid = ?', [b.uuid])
  await b.client.publishAsync(topicOf('deviceTelemetry', { uuid: b.uuid }), '{"x":2}', { qos: 0 })
  await waitFor(() => app.gateway.services.telemetry.state().buffered === 1)
  await a.client.publishAsync(topicOf('deviceTelemetry', { uuid: a.uuid }), '{"y":3}', { qos: 1 })
  t.same((await rows(app)).map(r => [r.key, r.value]), [['y', 3]])
  t.match(app.gateway.services.telemetry.state(), { failed: 1, written: 2 })
  t.ok(app.logs.some(l => l.msg === 'telemetry readings of deleted devices dropped' && l.dropped === 1))
})

import t from 'tap'
import { startApp, type RunningApp } from '../helpers/app.js'
import { simBoard } from '../helpers/boards.js'
import { createUser, deviceClient, login, provisionDevice, userClient } from '../helpers/devices.js'
import { connect, subackCodes, waitFor } from '../helpers/mqtt.js'
import { scrape, type Scrape } from '../helpers/prometheus.js'

const TOKEN = 'scrape-secret-0123'

/** Every metric of issue 6 and its type; the test fails if one goes missing or changes type. */
const GATEWAY_METRICS: Record<string, 'COUNTER' | 'GAUGE' | 'HISTOGRAM'> = {
  autocore_devices_online: 'GAUGE',
  autocore_mqtt_clients_connected: 'GAUGE',
  autocore_messages_total: 'COUNTER',
  autocore_telemetry_rows_written_total: 'COUNTER',
  autocore_telemetry_buffer_depth: 'GAUGE',
  autocore_command_latency_seconds: 'HISTOGRAM',
  autocore_auth_failures_total: 'COUNTER',
  autocore_acl_denied_total: 'COUNTER',
  autocore_invalid_payloads_total: 'COUNTER',
  autocore_http_request_duration_seconds: 'HISTOGRAM',
  autocore_emergency_active: 'GAUGE',
  autocore_mqtt_packets_too_large_total: 'COUNTER',
  autocore_broker_errors_total: 'COUNTER'
}

/** A few of prom-client's process defaults, unprefixed. */
const PROCESS_METRICS = [
  'process_cpu_user_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_version_info'
]

const scrapeOf = (app: RunningApp): Promise<Scrape> => scrape(app.httpUrl, TOKEN)

/** Scrapes until `cond` holds (the gateway applies some traffic after acknowledging it). */
async function until (app: RunningApp, what: string, cond: (s: Scrape) => boolean): Promise<Scrape> {
  for (let i = 0; i < 250; i++) {
    const s = await scrapeOf(app)
    if (cond(s)) return s
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`/metrics never showed ${what}`)
}

const msgs = (s: Scrape, family: string, direction: 'in' | 'out'): number =>
  s.value('autocore_messages_total', { family, direction })

t.test('/metrics parses as Prometheus text and its counters move with the traffic sent', async t => {
  const app = await startApp(t, { config: { metrics: { token: TOKEN }, mqtt: { maxPayloadBytes: 1024 } } })
  const s0 = await scrapeOf(app)
  t.equal(s0.value('autocore_devices_online'), 0)
  t.equal(s0.value('autocore_mqtt_clients_connected'), 0)
  t.equal(s0.value('autocore_emergency_active'), 0)
  t.equal(s0.value('autocore_telemetry_buffer_depth'), 0)

  // Devices online, clients connected.
  const a = await deviceClient(t, app, { type: 'sensor' })
  const b = await deviceClient(t, app, { type: 'sensor' })
  const s1 = await until(app, 'two devices online', s => s.value('autocore_devices_online') === 2)
  t.equal(s1.value('autocore_mqtt_clients_connected'), 2)

  // Telemetry in, rows written (a QoS 1 reading is acknowledged once committed).
  await a.client.publishAsync(`autocore/devices/${a.uuid}/telemetry`, JSON.stringify({ temp: 21.5, rpm: 900 }), {
    qos: 1
  })
  await b.client.publishAsync(`autocore/telemetry/${b.uuid}/data`, JSON.stringify({ volts: 12.6 }), { qos: 1 })
  const s2 = await scrapeOf(app)
  t.equal(
    msgs(s2, 'deviceTelemetry', 'in') - msgs(s1, 'deviceTelemetry', 'in'),
    1,
    'one publish on devices/{uuid}/telemetry'
  )
  t.equal(
    msgs(s2, 'telemetryData', 'in') - msgs(s1, 'telemetryData', 'in'),
    1,
    'one publish on the telemetry/{uuid}/data alias'
  )
  t.equal(
    s2.value('autocore_telemetry_rows_written_total') - s1.value('autocore_telemetry_rows_written_total'),
    3,
    'three readings committed'
  )

  // Invalid payloads: acknowledged, dropped, counted by reason; the gateway's error report is counted as out.
  await a.client.publishAsync(`autocore/devices/${a.uuid}/telemetry`, 'not json', { qos: 1 })
  await a.client.publishAsync(`autocore/devices/${a.uuid}/status`, JSON.stringify({ status: 'bogus' }), { qos: 1 })
  await a.client.publishAsync(`autocore/devices/${a.uuid}/telemetry`, JSON.stringify({ blob: 'x'.repeat(2000) }), {
    qos: 1
  })
  const s3 = await until(app, 'three error reports out', s => msgs(s, 'deviceGatewayError', 'out') === 3)
  for (const reason of ['not_json', 'schema', 'too_large']) {
    t.equal(s3.value('autocore_invalid_payloads_total', { reason }), 1, reason)
  }
  t.equal(
    msgs(s3, 'deviceTelemetry', 'in') - msgs(s2, 'deviceTelemetry', 'in'),
    2,
    'dropped publishes still count as in'
  )
  t.equal(
    s3.value('autocore_telemetry_rows_written_total'),
    s2.value('autocore_telemetry_rows_written_total'),
    'nothing stored'
  )

  // Auth failures: a bad MQTT password, a bad HTTP login.
  const d = await provisionDevice(app)
  await t.rejects(
    connect(t, app.mqttUrl, { clientId: d.uuid, username: d.uuid, password: 'wrong-secret' }),
    /Bad username or password/
  )
  const viewer = await createUser(app, { role: 'viewer' })
  const bad = await fetch(`${app.httpUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: viewer.username, password: 'wrong-password' })
  })
  t.equal(bad.status, 401)
  const s4 = await scrapeOf(app)
  t.equal(s4.value('autocore_auth_failures_total', { transport: 'mqtt' }), 1)
  t.equal(s4.value('autocore_auth_failures_total', { transport: 'http' }), 1)

  // ACL: a refused subscription (SUBACK 0x80), then a spoofed publish (connection closed).
  const c = await deviceClient(t, app, { type: 'sensor' })
  t.same(await subackCodes(c.client, `autocore/devices/${a.uuid}/command`), [128])
  const closed = new Promise(resolve => c.client.once('close', resolve))
  void c.client
    .publishAsync(`autocore/devices/${a.uuid}/telemetry`, JSON.stringify({ temp: 99 }), { qos: 1 })
    .catch(() => {})
  await closed
  const s5 = await scrapeOf(app)
  t.equal(s5.value('autocore_acl_denied_total', { action: 'subscribe' }), 1)
  t.equal(s5.value('autocore_acl_denied_total', { action: 'publish' }), 1)
  t.equal(
    msgs(s5, 'deviceTelemetry', 'in'),
    msgs(s4, 'deviceTelemetry', 'in'),
    'a refused publish is not counted as in'
  )

  // A relay command acknowledged by a simulated board: one observation in the latency histogram.
  const board = await simBoard(t, app, { channels: [{ channel: 1 }, { channel: 2 }] })
  await waitFor(() => app.gateway.services.commands.isOnline(board.uuid))
  const { client: panel } = await userClient(t, app, 'operator')
  await panel.publishAsync(`autocore/relays/${board.uuid}/set`, JSON.stringify({ channel: 1, action: 'on' }), {
    qos: 1
  })
  await waitFor(() => board.state.get(1) === true)
  const s6 = await until(
    app,
    'one acked command',
    s => s.value('autocore_command_latency_seconds_count', { outcome: 'acked' }) === 1
  )
  t.equal(msgs(s6, 'relaySet', 'in'), 1)
  t.equal(msgs(s6, 'relayCommand', 'out'), 1)
  t.ok(
    s6.value('autocore_command_latency_seconds_bucket', { outcome: 'acked', le: '+Inf' }) === 1,
    'the observation is in the +Inf bucket'
  )

  // Emergency stop: the gauge turns 1 once the stop is acknowledged; the board's off-commands are acked too.
  await panel.publishAsync('autocore/emergency/stop', JSON.stringify({ reason: 'metrics test' }), { qos: 1 })
  const s7 = await until(
    app,
    'three acked commands',
    s => s.value('autocore_command_latency_seconds_count', { outcome: 'acked' }) === 3
  )
  t.equal(s7.value('autocore_emergency_active'), 1)
  t.equal(msgs(s7, 'emergencyStop', 'in'), 1)
  t.equal(msgs(s7, 'emergencyStop', 'out'), 1, 'the gateway broadcasts its own stop')
  const { client: admin } = await userClient(t, app, 'admin')
  await admin.publishAsync('autocore/emergency/reset', '{}', { qos: 1 })
  t.equal((await scrapeOf(app)).value('autocore_emergency_active'), 0, 'back to 0 once the reset is acknowledged')

  // HTTP requests by route template, never by raw URL.
  const token = await login(app, viewer.username, viewer.password)
  t.equal(
    (await fetch(`${app.httpUrl}/api/v1/telemetry/${a.uuid}/latest`, { headers: { authorization: `Bearer ${token}` } }))
      .status,
    200
  )
  t.equal((await fetch(`${app.httpUrl}/health`)).status, 200)
  t.equal((await fetch(`${app.httpUrl}/no/such/${a.uuid}`)).status, 404)
  const s8 = await scrapeOf(app)
  const http = (labels: Record<string, string>): number =>
    s8.value('autocore_http_request_duration_seconds_count', labels)
  t.equal(http({ method: 'GET', route: '/api/v1/telemetry/:uuid/latest', status: '200' }), 1)
  t.equal(http({ method: 'GET', route: '/health', status: '200' }), 1)
  t.equal(http({ method: 'GET', route: 'unmatched', status: '404' }), 1)
  t.equal(http({ method: 'POST', route: '/api/v1/auth/login', status: '401' }), 1)
  t.equal(http({ method: 'POST', route: '/api/v1/auth/login', status: '200' }), 3, 'operator, admin, viewer')
  t.ok(http({ method: 'GET', route: '/metrics', status: '200' }) >= 8, 'every earlier scrape')
  const routes = s8.labelSets('autocore_http_request_duration_seconds_count').map(l => l.route)
  t.notOk(routes.some(r => r.includes(a.uuid)), `no raw URL among the routes: ${routes.join(', ')}`)

  // Every metric of the issue, with its type, and the process defaults without a prefix.
  for (const [name, type] of Object.entries(GATEWAY_METRICS)) t.equal(s8.families.get(name)?.type, type, name)
  for (const name of PROCESS_METRICS) t.ok(s8.families.has(name), name)
})

t.test('metrics.token: 401 in the standard error shape without it or with another one, 200 with it', async t => {
  const app = await startApp(t, { config: { metrics: { token: TOKEN } } })
  for (const headers of [{}, { authorization: 'Bearer not-the-token' }, { authorization: TOKEN }]) {
    const res = await fetch(`${app.httpUrl}/metrics`, { headers })
    t.equal(res.status, 401, JSON.stringify(headers))
    t.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"')
    t.match(await res.json(), { error: { code: 'GW_ERR_AUTH_REQUIRED', message: /metrics\.token/ } })
  }
  const ok = await scrape(app.httpUrl, TOKEN)
  t.ok(ok.families.has('autocore_messages_total'))
  t.notOk(JSON.stringify(app.logs).includes(TOKEN), 'the token never reaches a log line')
})

t.test('without metrics.token, /metrics is open; it is not part of the API route table', async t => {
  const app = await startApp(t)
  const s = await scrape(app.httpUrl)
  t.ok(s.families.has('autocore_emergency_active'))
  const doc = await (await fetch(`${app.httpUrl}/api/v1/openapi.json`)).json() as { paths: Record<string, unknown> }
  t.notOk(Object.keys(doc.paths).some(p => p.includes('metrics')), 'not in the OpenAPI document')
})

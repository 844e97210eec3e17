import { spawn } from 'node:child_process'
import t from 'tap'
import { startApp, type RunningApp } from '../helpers/app.js'
import { createUser, deviceClient, login, provisionDevice, userClient } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { connect, collect, nextMessage, subackCodes, waitFor, type Client } from '../helpers/mqtt.js'
import { scrape } from '../helpers/prometheus.js'
import { connectPacket, rawConnack } from '../helpers/raw-mqtt.js'

// Each test is one attack of issue #13 (session layer), over real sockets against the real app.

const pause = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** The filters the broker store holds for a client id (what a persistent session would be restored from). */
async function storedFilters (app: RunningApp, clientId: string): Promise<string[]> {
  const store = app.gateway.services.broker.aedes.persistence as unknown as {
    subscriptionsByClient: (c: { id: string }) => Promise<Array<{ topic: string }>>
  }
  return (await store.subscriptionsByClient({ id: clientId })).map(s => s.topic).sort()
}

async function limitRefusals (app: RunningApp, limit: string): Promise<number> {
  return (await scrape(app.httpUrl)).value('autocore_mqtt_limit_refusals_total', { limit })
}

/** The SUBACK codes of one SUBSCRIBE carrying every filter. */
async function codesOf (client: Client, filters: string[]): Promise<number[]> {
  return await subackCodes(client, filters as unknown as string)
}

async function viewerSession (
  t: Parameters<typeof connect>[0],
  app: RunningApp,
  username: string,
  token: string,
  clientId: string,
  clean = false
): Promise<Client> {
  return await connect(t, app.mqttUrl, { clientId, username, password: token, clean, protocolVersion: 4 })
}

t.test('1: filters refused in a persistent SUBSCRIBE are not stored; nothing unreadable reaches the ' +
  'session', async t => {
  const app = await startApp(t)
  const board = await provisionDevice(app)
  const { username, password } = await createUser(app, { role: 'viewer' })
  const token = await login(app, username, password)
  const viewer = await viewerSession(t, app, username, token, 'viewer-persistent')
  const granted = await codesOf(viewer, [
    'autocore/gateway/+/status',
    'autocore/relays/+/command',
    'autocore/devices/+/command'
  ])
  t.same(granted, [1, 128, 128], 'SUBACK [1,128,128]')
  t.same(
    await storedFilters(app, 'viewer-persistent'),
    ['autocore/gateway/+/status'],
    'only the granted filter is in the session'
  )
  viewer.end(true)
  await waitFor(() => app.gateway.services.broker.aedes.connectedClients === 0)

  const { client: admin } = await userClient(t, app, 'admin', { transport: 'tcp' })
  await admin.publishAsync(
    `autocore/relays/${board.uuid}/command`,
    JSON.stringify({ command_id: 'c1', channel: 1, action: 'on' }),
    { qos: 1 }
  )
  await admin.publishAsync(
    `autocore/devices/${board.uuid}/command`,
    JSON.stringify({ command_id: 'c2', command: 'reboot', params: {} }),
    { qos: 1 }
  )
  await admin.publishAsync('autocore/gateway/gw-x/status', JSON.stringify({ status: 'online' }), { qos: 1 })

  const again = await viewerSession(t, app, username, token, 'viewer-persistent')
  const seen = collect(again)
  await nextMessage(again, 'autocore/gateway/gw-x/status')
  await pause(200)
  t.notOk(seen.some(m => m.topic.endsWith('/command')), 'no command reached the viewer on reconnect')
})

t.test('1b: a persistent session\'s filters its identity no longer holds are removed when it comes back', async t => {
  const app = await startApp(t)
  const { username, password } = await createUser(app, { role: 'admin' })
  const token = await login(app, username, password)
  const admin = await viewerSession(t, app, username, token, 'demoted')
  t.same(await codesOf(admin, ['$SYS/#', 'autocore/relays/+/set', 'autocore/devices/+/telemetry']), [1, 1, 1])
  admin.end(true)
  await waitFor(() => app.gateway.services.broker.aedes.connectedClients === 0)
  await app.gateway.services.repos.users.update(username, { role: 'viewer' }, Date.now())
  const viewer = await viewerSession(t, app, username, await login(app, username, password), 'demoted')
  t.ok(viewer.connected)
  let stored: string[] = []
  await waitFor(() => { void storedFilters(app, 'demoted').then(f => { stored = f }); return stored.length === 1 })
  t.same(stored, ['autocore/devices/+/telemetry'], 'only the filter a viewer may hold stays in the session')
})

t.test('3: a device UUID as client id is that device\'s only', async t => {
  const app = await startApp(t)
  const dev = await deviceClient(t, app)
  const other = await provisionDevice(app)
  const { username, password } = await createUser(app, { role: 'admin' })
  const token = await login(app, username, password)
  const refused = async (opts: Record<string, unknown>): Promise<unknown> =>
    await connect(t, app.mqttUrl, opts).then(
      () => 0,
      (err: { code?: number }) => err.code
    )
  t.equal(
    await refused({ clientId: dev.uuid, username, password: token, clean: false }),
    2,
    'an admin taking a device\'s UUID gets CONNACK 2'
  )
  t.not(
    await refused({ clientId: dev.uuid, username: other.uuid, password: other.secret }),
    0,
    'another device is refused too'
  )
  t.equal(dev.client.connected, true, 'the device stays connected')
  const again = await connect(t, app.mqttUrl, { clientId: dev.uuid, username: dev.uuid, password: dev.secret })
  t.equal(again.connected, true, 'the device itself may reconnect with its id')
  t.equal(await limitRefusals(app, 'client_id_owner'), 1, 'counted in /metrics')
})

t.test('8: mqtt.maxClientIdLength holds for MQTT 3.1.1', async t => {
  const app = await startApp(t)
  const { username, password } = await createUser(app, { role: 'viewer' })
  const token = await login(app, username, password)
  const port = app.gateway.mqttPort
  t.equal(
    await rawConnack(port, connectPacket({ clientId: 'x'.repeat(60_000), clean: true, username, password: token })),
    2,
    '60,000 characters: CONNACK 2'
  )
  t.equal(
    await rawConnack(port, connectPacket({ clientId: 'x'.repeat(129), clean: true, username, password: token })),
    2,
    'one past the default 128: CONNACK 2'
  )
  t.equal(
    await rawConnack(port, connectPacket({ clientId: 'x'.repeat(128), clean: true, username, password: token })),
    0,
    '128: accepted'
  )
  t.equal(await limitRefusals(app, 'client_id_length'), 2)
})

t.test('2 (at CONNECT): a will is a publish by its owner; a refused one refuses the CONNECT with 5 and an ' +
  'event', async t => {
  const app = await startApp(t)
  const { username, password } = await createUser(app, { role: 'viewer' })
  const token = await login(app, username, password)
  const board = await provisionDevice(app)
  const code = async (opts: Record<string, unknown>): Promise<unknown> =>
    await connect(t, app.mqttUrl, opts).then(
      () => 0,
      (err: { code?: number }) => err.code
    )
  const forged: Array<[string, string, boolean]> = [
    ['autocore/emergency/reset', '{}', false],
    [
      `autocore/devices/${board.uuid}/command`,
      JSON.stringify({ command_id: 'x', command: 'reboot', params: {} }),
      false
    ],
    [`autocore/relays/${board.uuid}/command`, JSON.stringify({ command_id: 'y', channel: 1, action: 'on' }), true],
    ['autocore/emergency/state', '{"active":false}', true]
  ]
  for (const [topic, payload, retain] of forged) {
    t.equal(
      await code({
        clientId: `v-${topic.length}`,
        username,
        password: token,
        will: { topic, payload, qos: 1, retain }
      }),
      5,
      `viewer will on ${topic}: CONNACK 5`
    )
  }
  t.equal(
    await code({
      clientId: board.uuid,
      username: board.uuid,
      password: board.secret,
      will: { topic: `autocore/devices/${board.uuid}/status`, payload: '{"status":"sleeping"}', qos: 1, retain: true }
    }),
    5,
    'a device will failing its payload schema: CONNACK 5'
  )
  t.equal(
    await code({
      clientId: board.uuid,
      username: board.uuid,
      password: board.secret,
      will: { topic: `autocore/devices/${board.uuid}/status`, payload: '{"status":"offline"}', qos: 1, retain: true }
    }),
    0,
    'the device\'s own status will: accepted'
  )
  const rows = await app.gateway.services.repos.events.recent({ eventType: 'auth_failed' })
  t.ok(
    rows.some(r => String((r.payload as { reason?: string } | null)?.reason ?? '').startsWith('will refused')),
    'each refusal is an event'
  )
  t.equal(await limitRefusals(app, 'will'), forged.length + 1)
})

t.test('4: one SUBSCRIBE of 1,000 filters: 64 granted, the rest 0x80, 64 stored; subscriptions per client ' +
  'capped', async t => {
  const app = await startApp(t)
  const { username, password } = await createUser(app, { role: 'admin' })
  const token = await login(app, username, password)
  const c = await viewerSession(t, app, username, token, 'many-filters')
  const filters = Array.from({ length: 1000 }, (_, i) => `veh/${i}/#`)
  const codes = await codesOf(c, filters)
  t.equal(codes.length, 1000, 'one code per filter [MQTT-3.9.3-1]')
  t.same(codes.slice(0, 64), Array(64).fill(1), 'the first mqtt.maxFiltersPerSubscribe (64) granted')
  t.same(codes.slice(64), Array(936).fill(128), 'the rest refused')
  t.equal((await storedFilters(app, 'many-filters')).length, 64, 'each granted filter stored once, no refused one')
  t.equal(await limitRefusals(app, 'filters_per_subscribe'), 936)
  // Up to mqtt.maxSubscriptionsPerClient (256): three more SUBSCRIBEs of 64.
  for (let p = 1; p <= 3; p++) {
    t.same(
      await codesOf(
        c,
        Array.from({ length: 64 }, (_, i) => `more/${p}/${i}`)
      ),
      Array(64).fill(1),
      `SUBSCRIBE ${p + 1}: granted`
    )
  }
  t.same(await codesOf(c, ['one/too/many', 'veh/0/#']), [128, 1], 'past 256: 0x80; a filter already held is re-granted')
  await c.unsubscribeAsync(filters.slice(0, 10))
  t.same(await codesOf(c, ['after/unsubscribe']), [1], 'an UNSUBSCRIBE frees room')
  t.equal(await limitRefusals(app, 'subscriptions_per_client'), 1)
  const res = await fetch(`${app.httpUrl}/health`)
  t.equal(res.status, 200, 'the process stays responsive')
  // Aedes streams the retained messages of each granted filter; let them finish before the store closes.
  await pause(500)
})

t.test('7: queued messages per offline session are capped; abandoned user sessions expire, a device\'s is ' +
  'kept', async t => {
  const clock = new FakeClock(Date.now())
  const app = await startApp(t, {
    clock,
    config: { mqtt: { maxQueuedMessagesPerSession: 5, sessionExpiryMs: 60_000 } }
  })
  const dev = await deviceClient(t, app)
  const { username, password } = await createUser(app, { role: 'viewer' })
  const token = await login(app, username, password)
  const { client: admin } = await userClient(t, app, 'admin', { transport: 'tcp' })
  const viewer = await viewerSession(t, app, username, token, 'abandoned')
  t.same(await codesOf(viewer, [`autocore/devices/${dev.uuid}/+`]), [1], 'granted: it covers readable topics')
  viewer.end(true)
  await waitFor(() => app.gateway.services.broker.aedes.connectedClients === 2)
  // Commands match the filter but are not the viewer's to read: never queued for it, nor counted against its cap.
  for (let i = 0; i < 3; i++) {
    await admin.publishAsync(
      `autocore/devices/${dev.uuid}/command`,
      JSON.stringify({ command_id: `c${i}`, command: 'reboot', params: {} }),
      { qos: 1 }
    )
  }
  for (let i = 0; i < 12; i++) {
    await dev.client.publishAsync(
      `autocore/devices/${dev.uuid}/error`,
      JSON.stringify({ code: 'E', message: String(i) }),
      { qos: 1 }
    )
  }
  const back = await viewerSession(t, app, username, token, 'abandoned')
  const seen = collect(back)
  await waitFor(() => seen.length >= 5)
  await pause(200)
  t.equal(seen.length, 5, 'mqtt.maxQueuedMessagesPerSession (5) delivered, the rest not queued')
  t.same(
    seen.map(m => m.topic),
    Array(5).fill(`autocore/devices/${dev.uuid}/error`),
    'only what the viewer may read was queued'
  )
  t.equal(await limitRefusals(app, 'queued_messages'), 7)
  back.end(true)
  // The device's own persistent session, offline as long.
  const board = await provisionDevice(app)
  const persistentDevice = await connect(t, app.mqttUrl, {
    clientId: board.uuid,
    username: board.uuid,
    password: board.secret,
    clean: false
  })
  await persistentDevice.subscribeAsync(`autocore/devices/${board.uuid}/command`, { qos: 1 })
  persistentDevice.end(true)
  await waitFor(() => app.gateway.services.broker.aedes.connectedClients === 2)

  clock.advance(61_000)
  await waitFor(() => app.logs.some(l => l.msg === 'mqtt session expired' && l.clientId === 'abandoned'))
  t.same(await storedFilters(app, 'abandoned'), [], 'the viewer\'s session is deleted after mqtt.sessionExpiryMs')
  t.same(
    await storedFilters(app, board.uuid),
    [`autocore/devices/${board.uuid}/command`],
    'the device\'s session is kept'
  )
  await dev.client.publishAsync(`autocore/devices/${dev.uuid}/error`, JSON.stringify({ code: 'E', message: 'late' }), {
    qos: 1
  })
  const late = await connect(t, app.mqttUrl, { clientId: 'abandoned', username, password: token, clean: false })
  const lateSeen = collect(late)
  await pause(200)
  t.same(lateSeen, [], 'nothing was queued for the expired session')
  t.equal(await limitRefusals(app, 'session_expired'), 1)
})

/** Runs `mosquitto_sub -v -t '#'` against the app; resolves with its output lines when stopped. */
function mosquittoSub (
  app: RunningApp,
  username: string,
  token: string
): { lines: string[], stop: () => Promise<void> } {
  const port = String(app.gateway.mqttPort)
  const child = spawn(
    'mosquitto_sub',
    [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-V',
      'mqttv311',
      '-u',
      username,
      '-P',
      token,
      '-i',
      'mosquitto-viewer',
      '-q',
      '1',
      '-v',
      '-t',
      '#'
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  const lines: string[] = []
  let buffered = ''
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
  })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  return { lines, stop: async () => { child.kill('SIGTERM'); await exited } }
}

t.test('acceptance 4: a viewer running mosquitto_sub -v -t \'#\' sees telemetry and status, never a command, a panel ' +
  'request or health', async t => {
  const app = await startApp(t)
  const dev = await deviceClient(t, app)
  const { username, password } = await createUser(app, { role: 'viewer' })
  const token = await login(app, username, password)
  const sub = mosquittoSub(app, username, token)
  t.teardown(() => sub.stop())
  await waitFor(() => app.gateway.services.broker.aedes.connectedClients === 2)
  await waitFor(() => sub.lines.some(l => l.startsWith(`autocore/devices/${dev.uuid}/status `)), 10_000)
  t.pass('the retained status arrived')
  const { client: admin } = await userClient(t, app, 'admin', { transport: 'tcp' })
  await admin.publishAsync(
    `autocore/relays/${dev.uuid}/command`,
    JSON.stringify({ command_id: 'c1', channel: 1, action: 'on' }),
    { qos: 1 }
  )
  await admin.publishAsync(
    `autocore/devices/${dev.uuid}/command`,
    JSON.stringify({ command_id: 'c2', command: 'reboot', params: {} }),
    { qos: 1 }
  )
  await admin.publishAsync(`autocore/relays/${dev.uuid}/set`, JSON.stringify({ channel: 1, action: 'on' }), { qos: 1 })
  await admin.publishAsync('autocore/macros/m1/run', '{}', { qos: 1 })
  await admin.publishAsync('autocore/health/probe-1', '{}', { qos: 1 })
  await dev.client.publishAsync(`autocore/devices/${dev.uuid}/telemetry`, '{"temp":21.5}', { qos: 1 })
  await waitFor(() => sub.lines.some(l => l.startsWith(`autocore/devices/${dev.uuid}/telemetry `)), 10_000)
  await pause(300)
  await sub.stop()
  const topics = sub.lines.map(l => l.slice(0, l.indexOf(' ')))
  t.ok(topics.includes(`autocore/devices/${dev.uuid}/telemetry`), 'telemetry received')
  t.ok(topics.includes(`autocore/devices/${dev.uuid}/status`), 'status received')
  const forbidden = topics.filter(
    tp => tp.endsWith('/command') || tp.endsWith('/set') || tp.endsWith('/run') || tp.startsWith('autocore/health/')
  )
  t.same(forbidden, [], 'no command topic, panel request or health')
})

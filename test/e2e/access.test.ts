import net from 'node:net'
import t from 'tap'
import { issueToken } from '../../src/auth/jwt.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { deviceClient, provisionDevice, userClient } from '../helpers/devices.js'
import { connect, collect, nextMessage, subackCodes, waitFor, type Client } from '../helpers/mqtt.js'
import { scrape } from '../helpers/prometheus.js'
import { connectPacket, rawConnack } from '../helpers/raw-mqtt.js'

async function closedBy (client: Client, act: () => void): Promise<void> {
  const closed = new Promise(resolve => client.once('close', resolve))
  act()
  await closed
}

async function eventRows (
  app: RunningApp,
  type: string
): Promise<Array<{ target: string | null, payload: Record<string, unknown> | null }>> {
  return await app.gateway.services.repos.events.recent({ eventType: type })
}

t.test('(a) device A publishing on device B\'s topic is disconnected; B\'s subscribers never see it', async t => {
  const app = await startApp(t)
  const a = await deviceClient(t, app)
  const b = await deviceClient(t, app)
  const { client: viewer } = await userClient(t, app, 'viewer')
  await viewer.subscribeAsync(`autocore/devices/${b.uuid}/telemetry`, { qos: 1 })
  const seen = collect(viewer)
  await closedBy(a.client, () => a.client.publish(`autocore/devices/${b.uuid}/telemetry`, '{"temp":99}', { qos: 1 }))
  t.pass('A was disconnected')
  await b.client.publishAsync(`autocore/devices/${b.uuid}/telemetry`, '{"temp":21}', { qos: 1 })
  await nextMessage(viewer, `autocore/devices/${b.uuid}/telemetry`)
  t.same(seen.map(m => m.payload), ['{"temp":21}'], 'only B\'s own reading reached the subscriber')
  await waitFor(() => app.logs.some(l => l.msg === 'mqtt access denied'))
  const rows = await eventRows(app, 'acl_denied')
  t.match(rows[0], {
    target: `autocore/devices/${b.uuid}/telemetry`,
    payload: { clientId: a.uuid, reason: 'a device publishes only under its own UUID' }
  })
})

t.test('(b) an invalid payload is acked, reaches nobody, is not retained and is explained to its device', async t => {
  const app = await startApp(t)
  const dev = await deviceClient(t, app)
  await dev.client.subscribeAsync(`autocore/devices/${dev.uuid}/error/gateway`, { qos: 1 })
  const { client: viewer } = await userClient(t, app, 'viewer')
  await viewer.subscribeAsync(`autocore/devices/${dev.uuid}/telemetry`, { qos: 1 })
  await viewer.subscribeAsync(`autocore/devices/${dev.uuid}/status`, { qos: 1 })
  const seen = collect(viewer)
  const invalid: Array<[string, string, boolean, string]> = [
    ['telemetry', 'not json', false, 'GW_ERR_MQTT_PAYLOAD_INVALID'],
    ['telemetry', '{"temp":{"unit":"C"}}', false, 'GW_ERR_MQTT_PAYLOAD_INVALID'],
    ['status', '{"status":"sleeping"}', true, 'GW_ERR_MQTT_PAYLOAD_INVALID'],
    ['telemetry', JSON.stringify({ blob: 'x'.repeat(70_000) }), false, 'GW_ERR_MQTT_PAYLOAD_TOO_LARGE']
  ]
  for (const [leaf, payload, retain, code] of invalid) {
    await dev.client.publishAsync(`autocore/devices/${dev.uuid}/${leaf}`, payload, { qos: 1, retain })
    const err = await nextMessage(dev.client, `autocore/devices/${dev.uuid}/error/gateway`)
    t.match(
      JSON.parse(err.payload.toString()),
      { code, topic: `autocore/devices/${dev.uuid}/${leaf}`, message: String },
      `${leaf} ${payload.slice(0, 20)}: acked and explained`
    )
  }
  await dev.client.publishAsync(`autocore/devices/${dev.uuid}/telemetry`, '{"temp":{"value":21.5,"unit":"C"}}', {
    qos: 1
  })
  await waitFor(() => seen.some(m => m.topic.endsWith('/telemetry')))
  t.same(
    seen.filter(m => !m.topic.endsWith('/status')).map(m => m.payload),
    ['{"temp":{"value":21.5,"unit":"C"}}'],
    'no invalid payload reached the viewer'
  )
  t.notOk(seen.some(m => m.payload.includes('sleeping')), 'the invalid status was delivered to nobody')
  t.equal(dev.client.connected, true, 'the device stays connected')
  const late = (await userClient(t, app, 'viewer')).client
  await late.subscribeAsync(`autocore/devices/${dev.uuid}/status`, { qos: 1 })
  const retained = await nextMessage(late, `autocore/devices/${dev.uuid}/status`)
  t.same(
    JSON.parse(retained.payload.toString()),
    { status: 'online' },
    'the retained status is the gateway\'s, not the invalid one'
  )
  await waitFor(() => app.logs.some(l => l.msg === 'mqtt payload refused'))
})

t.test('(c) a viewer publishing emergency stop is disconnected; an operator may', async t => {
  const app = await startApp(t)
  const { client: viewer } = await userClient(t, app, 'viewer')
  await closedBy(viewer, () => viewer.publish('autocore/emergency/stop', '{}', { qos: 1 }))
  t.pass('viewer disconnected')
  const { client: operator } = await userClient(t, app, 'operator', { transport: 'tcp' })
  await operator.publishAsync('autocore/emergency/stop', '{"reason":"test"}', { qos: 1 })
  t.equal(operator.connected, true)
})

t.test('(d) a device subscribing to # is granted and receives only what it may read; $SYS gets 0x80', async t => {
  const app = await startApp(t)
  const dev = await deviceClient(t, app, { transport: 'ws' })
  const other = await provisionDevice(app)
  t.same(await subackCodes(dev.client, '#'), [1], 'granted: the device may read part of it (Mosquitto semantics)')
  t.same(await subackCodes(dev.client, '$SYS/#'), [128])
  t.same(await subackCodes(dev.client, 'autocore/relays/+/set'), [128], 'a filter that covers nothing readable')
  t.same(await subackCodes(dev.client, `autocore/devices/${dev.uuid}/command`), [1])
  const seen = collect(dev.client)
  const { client: admin } = await userClient(t, app, 'admin')
  t.same(await subackCodes(admin, '#'), [1], 'admins may')
  await admin.publishAsync(`autocore/devices/${other.uuid}/command`, '{"command_id":"x","command":"reboot"}', {
    qos: 1
  })
  await admin.publishAsync(`autocore/devices/${dev.uuid}/command`, '{"command_id":"y","command":"ping"}', { qos: 1 })
  await waitFor(() => seen.some(m => m.topic === `autocore/devices/${dev.uuid}/command`))
  t.notOk(seen.some(m => m.topic.includes(other.uuid)), 'another device\'s command is never forwarded')
})

t.test('bad secret, expired JWT, disabled device, unknown UUID: CONNACK code and an event row each', async t => {
  const app = await startApp(t)
  const ctx = app.gateway.services
  const good = await provisionDevice(app)
  const off = await provisionDevice(app)
  await ctx.repos.devices.update(off.uuid, { enabled: false }, Date.now())
  const { client: admin, username } = await userClient(t, app, 'admin')
  admin.end()
  const expired = await issueToken(
    ctx.auth.jwtKey,
    { username, role: 'admin', tokenVersion: 0 },
    Date.now() - 7200_000,
    60
  )
  const code = async (url: string, opts: Record<string, unknown>): Promise<unknown> =>
    await connect(t, url, opts).then(() => 0, (err: { code?: number }) => err.code)
  t.equal(await code(app.mqttUrl, { clientId: good.uuid, username: good.uuid, password: 'wrong' }), 4, 'bad secret')
  t.equal(await code(app.wsUrl, { clientId: 'panel', username, password: expired.token }), 4, 'expired JWT')
  t.equal(
    await code(app.mqttUrl, { clientId: off.uuid, username: off.uuid, password: off.secret }),
    5,
    'disabled device'
  )
  t.equal(await code(app.mqttUrl, { clientId: 'esp32-404', username: 'esp32-404', password: 'x' }), 4, 'unknown UUID')
  t.equal(await code(app.mqttUrl, { clientId: 'anon' }), 5, 'anonymous')
  await waitFor(() => app.logs.filter(l => l.msg === 'mqtt connection refused').length >= 1)
  let rows: Awaited<ReturnType<typeof eventRows>> = []
  await waitFor(() => { void eventRows(app, 'auth_failed').then(r => { rows = r }); return rows.length === 5 })
  t.same(rows.map(r => r.payload?.reason).reverse(), [
    'bad device secret',
    'token expired',
    'device disabled',
    'unknown identity',
    'anonymous connections are not allowed'
  ])
  t.same(rows.map(r => r.payload?.returnCode).reverse(), [4, 4, 5, 4, 5])
})

t.test('[MQTT-3.1.3-8] an empty client id with clean session 0 gets CONNACK 2', async t => {
  const app = await startApp(t, { config: { mqtt: { allowAnonymous: true } } })
  t.equal(await rawConnack(app.gateway.mqttPort, connectPacket({ clientId: '', clean: false })), 2)
  t.equal(
    await rawConnack(app.gateway.mqttPort, connectPacket({ clientId: '', clean: true })),
    0,
    'with clean session 1 the broker assigns an id'
  )
})

t.test('a takeover with the device\'s UUID happens only when the newcomer authenticates', async t => {
  const app = await startApp(t)
  const dev = await deviceClient(t, app)
  const port = app.gateway.mqttPort
  t.equal(
    await rawConnack(port, connectPacket({ clientId: dev.uuid, clean: true, username: dev.uuid, password: 'stolen?' })),
    4
  )
  await dev.client.publishAsync(`autocore/devices/${dev.uuid}/telemetry`, '{"v":1}', { qos: 1 })
  t.equal(dev.client.connected, true, 'the legitimate client was not kicked')
  const closed = new Promise(resolve => dev.client.once('close', resolve))
  const second = await connect(t, app.mqttUrl, { clientId: dev.uuid, username: dev.uuid, password: dev.secret })
  await closed
  t.equal(second.connected, true, 'an authenticated second connection takes over')
})

t.test('a burst of failed logins from one address: refused unchecked there, a device elsewhere connects', async t => {
  const app = await startApp(t, { config: { auth: { maxFailedAttempts: 5 } } })
  const dev = await provisionDevice(app)
  const port = app.gateway.mqttPort
  const codes: number[] = []
  let brokerConnacks = 0
  const countConnack = (): void => { brokerConnacks++ }
  app.gateway.services.broker.aedes.on('connackSent', countConnack)
  t.teardown(() => { app.gateway.services.broker.aedes.off('connackSent', countConnack) })
  for (let i = 0; i < 20; i++) {
    codes.push(
      await rawConnack(
        port,
        connectPacket({ clientId: dev.uuid, clean: true, username: dev.uuid, password: `guess-${i}` }),
        '127.0.0.2'
      )
    )
  }
  t.same(codes, [4, 4, 4, 4, 4, ...Array(15).fill(5)], 'five checked, then refused with 5')
  t.equal(
    await rawConnack(
      port,
      connectPacket({ clientId: dev.uuid, clean: true, username: dev.uuid, password: dev.secret }),
      '127.0.0.2'
    ),
    5,
    'even the right secret, from the throttled address'
  )
  t.equal(brokerConnacks, 5, 'the refused ones were answered at accept: Aedes never saw them')
  t.equal(
    await rawConnack(port, Buffer.from([0xc0, 0x00]), '127.0.0.2'),
    -1,
    'a first packet that is no CONNECT just closes the connection'
  )
  t.equal(
    (await scrape(app.httpUrl)).value('autocore_auth_failures_total', { transport: 'mqtt' }),
    21,
    'every refusal is counted'
  )
  const ok = await connect(t, app.mqttUrl, { clientId: dev.uuid, username: dev.uuid, password: dev.secret })
  t.equal(ok.connected, true, 'the device from another address connects')
  let rows: Awaited<ReturnType<typeof eventRows>> = []
  await waitFor(() => { void eventRows(app, 'auth_throttled').then(r => { rows = r }); return rows.length > 0 })
  t.match(rows[0], { target: '127.0.0.2' })
  t.equal((await eventRows(app, 'auth_failed')).length, 5, 'throttled attempts write no rows')
})

t.test('[MQTT-3.1.2-6] a refused CONNECT with a device\'s client id leaves that device\'s QoS 2 state ' +
  'alone', async t => {
  const app = await startApp(t)
  const dev = await provisionDevice(app)
  const port = app.gateway.mqttPort
  // The device, clean session 0, publishes QoS 2 and holds its PUBREL: the broker keeps the packet id for dedup.
  const socket = net.connect({ host: '127.0.0.1', port })
  t.teardown(() => { socket.destroy() })
  const got: number[] = []
  socket.on('data', d => { got.push(d[0]) })
  await new Promise(resolve => socket.once('connect', resolve))
  socket.write(connectPacket({ clientId: dev.uuid, clean: false, username: dev.uuid, password: dev.secret }))
  await waitFor(() => got.includes(0x20))
  const topic = Buffer.from(`autocore/devices/${dev.uuid}/telemetry`)
  const body = Buffer.from('{"v":1}')
  socket.write(
    Buffer.concat([
      Buffer.from([0x34, 2 + topic.length + 2 + body.length, 0, topic.length]),
      topic,
      Buffer.from([0, 7]),
      body
    ])
  )
  await waitFor(() => got.includes(0x50))
  const persistence = app.gateway.services.broker.aedes.persistence
  t.ok(
    await persistence.incomingGetPacket({ id: dev.uuid } as never, { messageId: 7 } as never),
    'PUBREC sent: packet 7 is stored'
  )
  t.equal(
    await rawConnack(
      port,
      connectPacket({ clientId: dev.uuid, clean: true, username: dev.uuid, password: 'a guess' }),
      '127.0.0.2'
    ),
    4
  )
  t.ok(
    await persistence.incomingGetPacket({ id: dev.uuid } as never, { messageId: 7 } as never),
    'still stored after the refused clean-session CONNECT with the same id'
  )
})

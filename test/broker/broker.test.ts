import t from 'tap'
import { connect, collect, nextMessage, waitFor } from '../helpers/mqtt.js'
import { startApp } from '../helpers/app.js'
import { userClient } from '../helpers/devices.js'

// These tests are about the broker itself: anonymous clients, granted `veh/#` by acl.rules.
const open = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

t.test('pub/sub over TCP and WebSocket at QoS 0, 1 and 2, across transports', async t => {
  const app = await startApp(t, { config: open })
  const tcpSub = await connect(t, app.mqttUrl)
  const wsSub = await connect(t, app.wsUrl)
  await tcpSub.subscribeAsync('veh/+/x', { qos: 2 })
  await wsSub.subscribeAsync('veh/+/x', { qos: 2 })
  const tcpSeen = collect(tcpSub)
  const wsSeen = collect(wsSub)
  const tcpPub = await connect(t, app.mqttUrl)
  const wsPub = await connect(t, app.wsUrl)
  for (const qos of [0, 1, 2] as const) {
    await tcpPub.publishAsync('veh/tcp/x', `tcp-${qos}`, { qos })
    await wsPub.publishAsync('veh/ws/x', `ws-${qos}`, { qos })
  }
  const want = ['tcp-0', 'tcp-1', 'tcp-2', 'ws-0', 'ws-1', 'ws-2']
  await waitFor(() => tcpSeen.length >= 6 && wsSeen.length >= 6)
  t.same(tcpSeen.map(m => m.payload).sort(), want)
  t.same(wsSeen.map(m => m.payload).sort(), want)
  t.same(tcpSeen.find(m => m.payload === 'ws-2')?.qos, 2, 'QoS 2 delivered as QoS 2')
})

t.test('a retained message and a queued QoS 1 message for an offline session survive a restart', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, config: open })
  const sub = await connect(t, first.mqttUrl, { clientId: 'persistent-sub', clean: false })
  await sub.subscribeAsync('veh/queued', { qos: 1 })
  sub.end(true)
  await new Promise(resolve => sub.once('close', resolve))
  const pub = await connect(t, first.mqttUrl)
  await pub.publishAsync('veh/retained', 'kept', { qos: 1, retain: true })
  await pub.publishAsync('veh/queued', 'waiting', { qos: 1 })
  pub.end(true)
  await first.stop()

  const second = await startApp(t, { dataDir, config: open })
  const back = await connect(t, second.mqttUrl, { clientId: 'persistent-sub', clean: false })
  t.equal(back.options.clean, false)
  const queued = await nextMessage(back, 'veh/queued')
  t.equal(queued.payload.toString(), 'waiting', 'the queued QoS 1 message is delivered after the restart')
  const fresh = await connect(t, second.mqttUrl)
  await fresh.subscribeAsync('veh/retained', { qos: 1 })
  const r = await nextMessage(fresh, 'veh/retained')
  t.equal(r.payload.toString(), 'kept')
  t.equal(r.packet.retain, true)
})

t.test('the gateway publishes its retained status online at start', async t => {
  const app = await startApp(t)
  const { client: c } = await userClient(t, app, 'viewer')
  await c.subscribeAsync('autocore/gateway/+/status', { qos: 1 })
  const m = await nextMessage(c, `autocore/gateway/${app.config.gatewayId}/status`)
  const body = JSON.parse(m.payload.toString())
  t.equal(body.status, 'online')
  t.match(body, { version: String, started_at: /^\d{4}-\d\d-\d\dT/ })
  t.equal(m.packet.retain, true)
})

t.test('WebSocket upgrades on another path are refused', async t => {
  const app = await startApp(t)
  const res = await fetch(`${app.httpUrl}/not-mqtt`, {
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ=='
    }
  }).catch((err: Error) => err)
  t.ok(res instanceof Error || res.status === 404, 'no MQTT session outside wsPath')
})

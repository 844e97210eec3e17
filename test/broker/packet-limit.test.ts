import net from 'node:net'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { FixedHeaderScanner } from '../../src/broker/packet-limit.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { waitFor } from '../helpers/mqtt.js'
import { scrape } from '../helpers/prometheus.js'
import { connectPacket, varint } from '../helpers/raw-mqtt.js'

// #13 item 5: packet sizes are judged on the fixed header, before anything is buffered, on TCP and WebSocket alike.

const MAX_PACKET = 4096
const MAX_CONNECT = 1024
/** Long enough that the old behaviour (waiting for the rest of the packet until mqtt.connectTimeoutMs) shows. */
const CLOSE_WITHIN_MS = 5000

async function app (t: Test): Promise<RunningApp> {
  return await startApp(t, {
    config: {
      mqtt: {
        allowAnonymous: true,
        maxPacketBytes: MAX_PACKET,
        maxConnectBytes: MAX_CONNECT,
        connectTimeoutMs: 60_000
      },
      acl: { rules: [{ effect: 'allow', action: 'both', topic: 'big/#' }] }
    }
  })
}

/** Resolves true once the socket closes, false if it is still open after CLOSE_WITHIN_MS. */
async function closes (socket: net.Socket): Promise<boolean> {
  if (socket.destroyed) return true
  return await new Promise(resolve => {
    const timer = setTimeout(() => resolve(false), CLOSE_WITHIN_MS)
    socket.once('close', () => { clearTimeout(timer); resolve(true) })
  })
}

async function rawSocket (t: Test, port: number): Promise<{ socket: net.Socket, got: () => Buffer }> {
  const socket = net.connect({ host: '127.0.0.1', port })
  t.teardown(() => { socket.destroy() })
  socket.on('error', () => {})
  let got = Buffer.alloc(0)
  socket.on('data', (d: Buffer) => { got = Buffer.concat([got, d]) })
  await new Promise(resolve => socket.once('connect', resolve))
  return { socket, got: () => got }
}

t.test('a CONNECT announcing 268 MB is cut as soon as its fixed header is read', async t => {
  const a = await app(t)
  const { socket, got } = await rawSocket(t, a.gateway.mqttPort)
  socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]))
  t.ok(await closes(socket), 'closed without waiting for the rest')
  t.equal(got().length, 0, 'no CONNACK: MQTT 3.1.1 has no packet for this')
  const s = await scrape(a.httpUrl)
  t.equal(s.value('autocore_mqtt_packets_too_large_total', { transport: 'tcp', stage: 'connect' }), 1)
  const line = a.logs.find(l => l.msg === 'mqtt packet too large: disconnected')
  t.match(line, { transport: 'tcp', stage: 'connect', announced: 268435455, limit: MAX_CONNECT })
})

t.test('a CONNECT over maxConnectBytes is refused, one under it is answered', async t => {
  const a = await app(t)
  const small = await rawSocket(t, a.gateway.mqttPort)
  small.socket.write(connectPacket({ clientId: 'small', clean: true }))
  await waitFor(() => small.got().length >= 4)
  t.same([...small.got().subarray(0, 4)], [0x20, 2, 0, 0], 'CONNACK 0')
  const big = await rawSocket(t, a.gateway.mqttPort)
  big.socket.write(connectPacket({ clientId: 'big', clean: true, username: 'u', password: 'p'.repeat(MAX_CONNECT) }))
  t.ok(await closes(big.socket))
  t.equal(big.got().length, 0, 'no CONNACK')
})

t.test('after CONNECT the larger maxPacketBytes applies; a PUBLISH announcing more closes the connection', async t => {
  const a = await app(t)
  const { socket, got } = await rawSocket(t, a.gateway.mqttPort)
  socket.write(connectPacket({ clientId: 'pub', clean: true }))
  await waitFor(() => got().length >= 4)
  const topic = Buffer.from('big/x')
  const publish = (payload: number): Buffer =>
    Buffer.concat([Buffer.from([0x30, ...varint(2 + topic.length + payload), 0, topic.length]), topic])
  // Over maxConnectBytes but within maxPacketBytes: accepted once authenticated.
  socket.write(Buffer.concat([publish(2000), Buffer.alloc(2000, 'a')]))
  socket.write(Buffer.from([0xc0, 0])) // PINGREQ
  await waitFor(() => got().includes(Buffer.from([0xd0, 0])))
  t.notOk(socket.destroyed, 'a 2 kB publish passes')
  // Only the header of a packet over the limit: the connection does not wait for its body.
  socket.write(publish(MAX_PACKET + 1))
  t.ok(await closes(socket))
  const s = await scrape(a.httpUrl)
  t.equal(s.value('autocore_mqtt_packets_too_large_total', { transport: 'tcp', stage: 'packet' }), 1)
})

async function wsOpen (t: Test, a: RunningApp): Promise<WebSocket> {
  const ws = new WebSocket(a.wsUrl, 'mqtt')
  t.teardown(() => { ws.terminate() })
  ws.on('error', () => {})
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  return ws
}

async function wsClosed (ws: WebSocket): Promise<number | undefined> {
  return await new Promise(resolve => {
    const timer = setTimeout(() => resolve(undefined), CLOSE_WITHIN_MS)
    ws.once('close', code => { clearTimeout(timer); resolve(code) })
  })
}

t.test('WebSocket: a message over maxPacketBytes is refused on its frame header (1009), a huge announced CONNECT is ' +
  'cut', async t => {
  const a = await app(t)
  const big = await wsOpen(t, a)
  const body = MAX_PACKET + 100
  big.send(Buffer.concat([Buffer.from([0x10, ...varint(body)]), Buffer.alloc(body)]))
  t.equal(await wsClosed(big), 1009, 'closed: message too big')

  const huge = await wsOpen(t, a)
  huge.send(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04]))
  t.not(await wsClosed(huge), undefined, 'closed without waiting for the rest')
  const s = await scrape(a.httpUrl)
  t.equal(s.value('autocore_mqtt_packets_too_large_total', { transport: 'ws', stage: 'connect' }), 2)
})

t.test('the scanner follows packet boundaries across chunks', async t => {
  const packets = [
    Buffer.from([0x30, 3, 0, 1, 0x61]),
    Buffer.from([0xc0, 0]),
    Buffer.concat([Buffer.from([0x30, ...varint(200)]), Buffer.alloc(200)])
  ]
  const stream = Buffer.concat([...packets, Buffer.from([0x30, ...varint(5000)])])
  for (let cut = 1; cut < stream.length; cut += 7) {
    const s = new FixedHeaderScanner()
    t.equal(
      s.feed(stream.subarray(0, cut), () => 4096) ?? s.feed(stream.subarray(cut), () => 4096),
      5000,
      `split at ${cut}`
    )
  }
  t.equal(new FixedHeaderScanner().feed(Buffer.concat(packets), () => 4096), undefined)
})

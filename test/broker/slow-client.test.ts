import net from 'node:net'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { startApp, type RunningApp } from '../helpers/app.js'
import { connect, waitFor } from '../helpers/mqtt.js'
import { connectPacket } from '../helpers/raw-mqtt.js'

// A subscriber that stops reading must not hold up anybody else (src/broker/listeners.ts neverStall): Aedes would
// otherwise wait for its socket to drain before counting each message delivered, and stall after mqtt.concurrency.

const MAX_QUEUED = 256 * 1024
const BIG = Buffer.alloc(16 * 1024, 'x')

async function app (t: Test): Promise<RunningApp> {
  return await startApp(t, {
    config: {
      mqtt: { allowAnonymous: true, maxQueuedBytes: MAX_QUEUED },
      acl: { rules: [{ effect: 'allow', action: 'both', topic: 'slow/#' }] }
    }
  })
}

/** SUBSCRIBE packet id 1 to one filter at QoS 1. */
function subscribePacket (filter: string): Buffer {
  const f = Buffer.from(filter)
  return Buffer.concat([Buffer.from([0x82, 2 + 2 + f.length + 1, 0, 1, 0, f.length]), f, Buffer.from([1])])
}

/** SUBACK for packet id 1, QoS 1 granted. */
const SUBACK = Buffer.from([0x90, 0x03, 0x00, 0x01, 0x01])

/** A raw TCP client that connects, subscribes to slow/# and then never reads again. */
async function stalledTcp (t: Test, port: number, clientId: string, clean: boolean): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port })
  t.teardown(() => { socket.destroy() })
  let got = Buffer.alloc(0)
  socket.on('data', (d: Buffer) => { got = Buffer.concat([got, d]) })
  socket.on('error', () => {})
  await new Promise(resolve => socket.once('connect', resolve))
  socket.write(connectPacket({ clientId, clean }))
  socket.write(subscribePacket('slow/#'))
  await waitFor(() => got.includes(SUBACK))
  socket.pause()
  return socket
}

/**
 * Resolves when the gateway has closed a connection as too slow (the stalled client itself does not notice: it
 * reads nothing, its FIN included).
 */
async function tooSlow (a: RunningApp): Promise<void> {
  await waitFor(() => a.logs.some(l => l.msg === 'mqtt client too slow: disconnected'), 60_000)
}

/** Publishes big QoS 0 messages until the stalled client's connection is closed by the gateway. */
async function floodUntilClosed (t: Test, a: RunningApp, closed: Promise<unknown>): Promise<number> {
  const pub = await connect(t, a.mqttUrl, { clientId: 'flooder' })
  const state = { done: false }
  void closed.then(() => { state.done = true })
  let sent = 0
  while (!state.done && sent < 5000) {
    await pub.publishAsync('slow/bulk', BIG, { qos: 0 })
    sent++
    if (sent % 50 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  await closed
  return sent
}

t.test('a TCP subscriber that stops reading: others keep getting messages at once, and it is disconnected', async t => {
  const a = await app(t)
  await stalledTcp(t, a.gateway.mqttPort, 'stalled', true)
  const closed = tooSlow(a)
  const fast = await connect(t, a.mqttUrl, { clientId: 'fast' })
  await fast.subscribeAsync('slow/ping', { qos: 1 })
  const sent = await floodUntilClosed(t, a, closed)
  t.ok(sent < 5000, `disconnected after ${sent} messages of 16 KB`)
  // The broker was never held up: a QoS 1 round trip to another subscriber completes.
  const pub = await connect(t, a.mqttUrl, { clientId: 'pinger' })
  const got = new Promise(resolve => fast.once('message', (_topic, payload) => resolve(payload.toString())))
  await pub.publishAsync('slow/ping', 'still here', { qos: 1 })
  t.equal(await got, 'still here')
  t.ok(
    a.logs.some(
      l => l.msg === 'mqtt client too slow: disconnected' && typeof l.bytes === 'number' && l.bytes > MAX_QUEUED
    ),
    'logged with the bytes waiting'
  )
})

t.test('a WebSocket subscriber that stops reading is disconnected too, and holds nobody up', async t => {
  const a = await app(t)
  const ws = new WebSocket(a.wsUrl, 'mqtt')
  t.teardown(() => { ws.terminate() })
  let got = Buffer.alloc(0)
  ws.on('message', (d: Buffer) => { got = Buffer.concat([got, d]) })
  ws.on('error', () => {})
  await new Promise(resolve => ws.once('open', resolve))
  ws.send(connectPacket({ clientId: 'stalled-ws', clean: true }))
  ws.send(subscribePacket('slow/#'))
  await waitFor(() => got.includes(SUBACK))
  // Stop reading the socket under the WebSocket: frames pile up at the gateway.
  ;(ws as unknown as { _socket: net.Socket })._socket.pause()
  const closed = tooSlow(a)
  const sent = await floodUntilClosed(t, a, closed)
  t.ok(sent < 5000, `disconnected after ${sent} messages of 16 KB`)
})

t.test('a stalled clean=false subscriber, disconnected, gets every QoS 1 message when it returns', async t => {
  const a = await app(t)
  await stalledTcp(t, a.gateway.mqttPort, 'persistent', false)
  const closed = tooSlow(a)
  const pub = await connect(t, a.mqttUrl, { clientId: 'publisher' })
  let sent = 0
  const state = { done: false }
  void closed.then(() => { state.done = true })
  while (!state.done && sent < 2000) {
    await pub.publishAsync('slow/q1', Buffer.concat([Buffer.from(`${sent}:`), BIG]), { qos: 1 })
    sent++
  }
  await closed
  t.ok(sent < 2000, `disconnected after ${sent} acknowledged messages`)
  const seen = new Set<number>()
  const back = await connect(t, a.mqttUrl, { clientId: 'persistent', clean: false })
  back.on('message', (_topic, payload) => seen.add(Number(payload.subarray(0, payload.indexOf(':')).toString())))
  await waitFor(() => seen.size === sent, 20_000)
  t.equal(seen.size, sent, 'every acknowledged message reached it')
})

import { randomBytes } from 'node:crypto'
import net from 'node:net'
import fc from 'fast-check'
import t from 'tap'
import WebSocket from 'ws'
import { startApp, type RunningApp } from '../helpers/app.js'
import { connect, nextMessage, type Client } from '../helpers/mqtt.js'
import { connectPacket, varint } from '../helpers/raw-mqtt.js'

// #13 acceptance 2: generated and mutated MQTT packets (before and after a valid CONNECT, truncated lengths, bad
// flags, wrong protocol levels, huge announced lengths, random bytes) and WebSocket frames against the real app.
// The process (this one: the app runs in it) never crashes, its RSS stays under the bound below, and a client
// connected alongside keeps getting its messages. Deterministic: fast-check's generators with a fixed seed.

const SEED = 1313
const TCP_CONNECTIONS = 240
const PACKETS_PER_CONNECTION = 45 // 10,800 MQTT packets over TCP
const WS_CONNECTIONS = 60
const MESSAGES_PER_WS = 25 // 1,500 WebSocket messages of MQTT bytes
const RAW_WS_CONNECTIONS = 40
const FRAMES_PER_RAW_WS = 20 // 800 hand-made (often malformed) WebSocket frames
const PARALLEL = 12
/** The stated bound: RSS may grow at most this much over its value after start, at any sample. */
const RSS_GROWTH_BOUND = 256 * 1024 * 1024

function str (s: Buffer): Buffer {
  return Buffer.concat([Buffer.from([s.length >> 8, s.length & 0xff]), s])
}

function packet (first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, ...varint(body.length)]), body])
}

/** Valid packets of every type a client may send, as seeds for mutation. */
const topic = fc.constantFrom(
  'fuzz/a',
  'fuzz/+/b',
  'fuzz/#',
  '#',
  '$SYS/x',
  'autocore/relays/x/set',
  'autocore/emergency/reset',
  'good/seq',
  '',
  'a/'.repeat(40)
)
const validPackets: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .record({
      t: topic,
      qos: fc.integer({ min: 0, max: 2 }),
      retain: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 64 })
    })
    .map(p =>
      packet(
        0x30 | (p.qos << 1) | (p.retain ? 1 : 0),
        Buffer.concat([
          str(Buffer.from(p.t)),
          p.qos > 0 ? Buffer.from([0, 7]) : Buffer.alloc(0),
          Buffer.from(p.payload)
        ])
      )
    ),
  fc
    .record({ t: topic, qos: fc.integer({ min: 0, max: 3 }) })
    .map(s => packet(0x82, Buffer.concat([Buffer.from([0, 9]), str(Buffer.from(s.t)), Buffer.from([s.qos])]))),
  topic.map(f => packet(0xa2, Buffer.concat([Buffer.from([0, 10]), str(Buffer.from(f))]))),
  fc.constantFrom(
    Buffer.from([0xc0, 0]),
    Buffer.from([0xe0, 0]),
    Buffer.from([0x40, 2, 0, 7]),
    Buffer.from([0x50, 2, 0, 7]),
    Buffer.from([0x62, 2, 0, 7]),
    Buffer.from([0x70, 2, 0, 7])
  ),
  fc
    .record({
      level: fc.integer({ min: 0, max: 255 }),
      name: fc.constantFrom('MQTT', 'MQIsdp', 'mqtt', ''),
      flags: fc.integer({ min: 0, max: 255 }),
      id: fc.string({ maxLength: 30 })
    })
    .map(c =>
      packet(
        0x10,
        Buffer.concat([str(Buffer.from(c.name)), Buffer.from([c.level, c.flags, 0, 30]), str(Buffer.from(c.id))])
      )
    )
)

/** One packet to send: valid, mutated, with a bad first byte, truncated, announcing a huge length, or random bytes. */
const fuzzPacket: fc.Arbitrary<Buffer> = fc.oneof(
  { arbitrary: validPackets, weight: 4 },
  {
    arbitrary: fc.tuple(
      validPackets,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
    ).map(([p, flips]) => {
      const m = Buffer.from(p)
      for (const [at, v] of flips) m[at % m.length] = v
      return m
    }),
    weight: 3
  },
  {
    arbitrary: fc.tuple(validPackets, fc.integer({ min: 0, max: 15 })).map(([p, flags]) => {
      const m = Buffer.from(p)
      m[0] = (m[0] & 0xf0) | flags
      return m
    }),
    weight: 2
  },
  { arbitrary: fc.tuple(validPackets, fc.nat()).map(([p, n]) => p.subarray(0, n % p.length)), weight: 2 },
  {
    arbitrary: fc.tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 1024, max: 268_435_455 }),
      fc.uint8Array({ maxLength: 32 })
    ).map(([first, len, rest]) =>
      Buffer.concat([Buffer.from([first, ...varint(len)]), Buffer.from(rest)])),
    weight: 2
  },
  { arbitrary: fc.constant(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), weight: 1 }, // a fifth length byte
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 128 }).map(b => Buffer.from(b)), weight: 2 }
)

/** A connection's script: whether it opens with a valid CONNECT, and the packets that follow. */
const script = fc.record({
  withConnect: fc.boolean(),
  packets: fc.array(fuzzPacket, { minLength: PACKETS_PER_CONNECTION, maxLength: PACKETS_PER_CONNECTION }),
  chunk: fc.integer({ min: 1, max: 512 })
})

async function tcpRun (
  app: RunningApp,
  s: { withConnect: boolean, packets: Buffer[], chunk: number },
  n: number
): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port: app.gateway.mqttPort })
  socket.on('error', () => {})
  socket.on('data', () => {})
  await new Promise<void>(resolve => { socket.once('connect', resolve); socket.once('close', () => resolve()) })
  const bytes = Buffer.concat([
    ...(s.withConnect ? [connectPacket({ clientId: `fuzz-${n}`, clean: true })] : []),
    ...s.packets
  ])
  // In chunks of varying size, so headers and lengths fall across reads.
  for (let at = 0; at < bytes.length && !socket.destroyed; at += s.chunk) socket.write(bytes.subarray(at, at + s.chunk))
  socket.end()
  await new Promise<void>(resolve => {
    if (socket.destroyed) return resolve()
    socket.once('close', () => resolve())
    setTimeout(() => { socket.destroy(); resolve() }, 5000).unref()
  })
}

async function wsRun (app: RunningApp, messages: Buffer[], withConnect: boolean, n: number): Promise<void> {
  const ws = new WebSocket(app.wsUrl, 'mqtt')
  ws.on('error', () => {})
  const open = await new Promise<boolean>(resolve => {
    ws.once('open', () => resolve(true))
    ws.once('close', () => resolve(false))
  })
  if (open) {
    if (withConnect) ws.send(connectPacket({ clientId: `fuzz-ws-${n}`, clean: true }))
    for (const m of messages) if (ws.readyState === WebSocket.OPEN) ws.send(m)
    ws.close()
  }
  await new Promise<void>(resolve => {
    if (ws.readyState === WebSocket.CLOSED) return resolve()
    ws.once('close', () => resolve())
    setTimeout(() => { ws.terminate(); resolve() }, 5000).unref()
  })
}

/** Hand-made WebSocket frames: any FIN/RSV/opcode bits, masked or not, any announced length up to 2^63. */
const rawFrame: fc.Arbitrary<Buffer> = fc.record({
  first: fc.integer({ min: 0, max: 255 }),
  masked: fc.boolean(),
  len: fc.oneof(fc.integer({ min: 0, max: 125 }), fc.constant(126), fc.constant(127)),
  ext: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  payload: fc.uint8Array({ maxLength: 64 })
}).map(f => {
  const ext = f.len === 126 ? Buffer.from(f.ext.subarray(0, 2)) : f.len === 127 ? Buffer.from(f.ext) : Buffer.alloc(0)
  return Buffer.concat([
    Buffer.from([f.first, (f.masked ? 0x80 : 0) | f.len]),
    ext,
    f.masked ? randomBytes(4) : Buffer.alloc(0),
    Buffer.from(f.payload)
  ])
})

async function rawWsRun (app: RunningApp, frames: Buffer[]): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port: app.gateway.httpPort })
  socket.on('error', () => {})
  socket.on('data', () => {})
  await new Promise<void>(resolve => { socket.once('connect', resolve); socket.once('close', () => resolve()) })
  socket.write(`GET ${app.config.mqtt.wsPath} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: ` +
      '13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n')
  for (const f of frames) if (!socket.destroyed) socket.write(f)
  socket.end()
  await new Promise<void>(resolve => {
    if (socket.destroyed) return resolve()
    socket.once('close', () => resolve())
    setTimeout(() => { socket.destroy(); resolve() }, 5000).unref()
  })
}

/** Runs `jobs` with at most PARALLEL at once. */
async function pool (jobs: Array<() => Promise<void>>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < jobs.length) await jobs[next++]()
  }))
}

t.test('fuzzed MQTT packets and WebSocket frames: no crash, bounded RSS, a good client keeps getting its ' +
  'messages', async t => {
  const app = await startApp(t, {
    config: {
      mqtt: { allowAnonymous: true },
      acl: {
        rules: [
          { effect: 'allow', action: 'both', topic: 'fuzz/#' },
          { effect: 'allow', action: 'both', topic: 'good/#' }
        ]
      }
    }
  })
  const sub = await connect(t, app.mqttUrl, { clientId: 'good-sub' })
  await sub.subscribeAsync('good/#', { qos: 1 })
  const pub = await connect(t, app.wsUrl, { clientId: 'good-pub' })
  let seq = 0
  const roundTrip = async (c: Client): Promise<void> => {
    const n = String(++seq)
    const got = nextMessage(c, topic => topic === `good/seq/${n}`, 10_000)
    await pub.publishAsync(`good/seq/${n}`, n, { qos: 1 })
    t.equal((await got).payload.toString(), n)
  }
  await roundTrip(sub)

  const base = process.memoryUsage().rss
  let peak = base
  const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50)
  t.teardown(() => clearInterval(sample))

  const scripts = fc.sample(script, { numRuns: TCP_CONNECTIONS, seed: SEED })
  const wsScripts = fc.sample(
    fc.record({
      withConnect: fc.boolean(),
      messages: fc.array(fuzzPacket, { minLength: MESSAGES_PER_WS, maxLength: MESSAGES_PER_WS })
    }),
    { numRuns: WS_CONNECTIONS, seed: SEED + 1 }
  )
  const frameScripts = fc.sample(fc.array(rawFrame, { minLength: FRAMES_PER_RAW_WS, maxLength: FRAMES_PER_RAW_WS }), {
    numRuns: RAW_WS_CONNECTIONS,
    seed: SEED + 2
  })
  let sent = 0
  for (let batch = 0; batch < scripts.length; batch += 40) {
    await pool(
      scripts.slice(batch, batch + 40).map((s, i) => async () => {
        await tcpRun(app, s, batch + i)
        sent += s.packets.length
      })
    )
    await roundTrip(sub)
  }
  await pool(
    wsScripts.map((s, i) => async () => {
      await wsRun(app, s.messages, s.withConnect, i)
      sent += s.messages.length
    })
  )
  await roundTrip(sub)
  await pool(frameScripts.map(frames => async () => { await rawWsRun(app, frames); sent += frames.length }))
  await roundTrip(sub)
  clearInterval(sample)

  t.ok(sent >= 10_000 + 2_000, `${sent} packets and frames sent`)
  t.ok(sub.connected && pub.connected, 'the good clients are still connected')
  t.equal((await fetch(`${app.httpUrl}/health`)).status, 200)
  t.ok(
    peak - base < RSS_GROWTH_BOUND,
    `RSS grew ${Math.round((peak - base) / 1048576)} MB (bound ${RSS_GROWTH_BOUND / 1048576} MB)`
  )
})

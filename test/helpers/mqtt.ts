import mqtt from 'mqtt'
import type { Test } from 'tap'

export type Client = mqtt.MqttClient
export interface Received { topic: string, payload: Buffer, packet: mqtt.IPublishPacket }

// Every message a test client receives is recorded from the moment the client exists, so a message that
// arrives right after CONNACK (a persistent session's queue, a retained message) is never missed.
const inbox = new WeakMap<Client, Received[]>()

/** An MQTT.js client that never reconnects by itself; ended at teardown. */
export async function connect (t: Test, url: string, opts: mqtt.IClientOptions = {}): Promise<Client> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  const received: Received[] = []
  inbox.set(client, received)
  client.on('message', (topic, payload, packet) => received.push({ topic, payload, packet }))
  t.teardown(() => { client.end(true) })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
    client.once('close', () => reject(new Error('connection closed before CONNACK')))
  })
  return client
}

/** Resolves with the first message (already received, or still to come) on a topic matching `filter`. */
export async function nextMessage (
  client: Client,
  filter: string | ((topic: string) => boolean),
  timeoutMs = 5000
): Promise<Received> {
  const match = typeof filter === 'string' ? (t: string) => t === filter : filter
  const received = inbox.get(client) ?? []
  const until = Date.now() + timeoutMs
  for (;;) {
    const i = received.findIndex(m => match(m.topic))
    if (i >= 0) return received.splice(i, 1)[0]
    if (Date.now() > until) throw new Error(`no message on ${String(filter)} within ${timeoutMs}ms`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** Every message received so far (the live array). */
export function collect (client: Client): Array<{ topic: string, payload: string, retain: boolean, qos: number }> {
  const seen: Array<{ topic: string, payload: string, retain: boolean, qos: number }> = []
  for (const m of inbox.get(client) ?? []) {
    seen.push({ topic: m.topic, payload: m.payload.toString(), retain: m.packet.retain, qos: m.packet.qos })
  }
  client.on('message', (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos })
  )
  return seen
}

export async function waitFor (cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** The SUBACK return codes for one subscribe: MQTT.js rejects when any is 0x80, with the SUBACK on the error. */
export async function subackCodes (client: Client, topic: string, qos: 0 | 1 | 2 = 1): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(topic, { qos })
    return granted.map(g => g.qos)
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet
    if (packet?.granted === undefined) throw err
    return packet.granted
  }
}

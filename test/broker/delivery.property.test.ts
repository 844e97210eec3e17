import mqtt from 'mqtt'
import fc from 'fast-check'
import t from 'tap'
import { covers } from '../../src/protocol/index.js'
import { startApp } from '../helpers/app.js'
import { waitFor } from '../helpers/mqtt.js'

// Generated interleavings against the real broker and its level store: retained and non-retained QoS 0/1/2
// publishes from several clients, overlapping and wildcard subscriptions, clean and persistent sessions that
// disconnect and come back. Every subscriber gets every message it is owed at QoS 1 or 2 (its matching
// subscriptions grant at least 1 [MQTT-3.8.4-6]) exactly once, at the highest QoS its matching subscriptions
// grant [MQTT-3.3.5-1], in the order each publisher sent it on each topic at each QoS [MQTT-4.6.0-6] (the standard
// orders a topic's messages per QoS: a QoS 2 message has more steps to take before it is published, and a QoS 1
// message sent after it may pass it, as it may on other brokers); nothing it does not
// match; QoS 0 at most once. One broker serves every case: each case has its own topics and client ids.
const CASES = 1000
const CONCURRENT = 4
const open = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

type QoS = 0 | 1 | 2
const TOPICS = ['a/x', 'a/y', 'b/x']
const FILTERS = ['a/x', 'a/+', '+/x', '#', 'a/#', 'b/x', '+/+']
const PUBLISHERS = 3

const qos = fc.constantFrom<QoS>(0, 1, 2)
const subscriber = fc.record({
  persistent: fc.boolean(),
  filters: fc.uniqueArray(fc.record({ filter: fc.constantFrom(...FILTERS), qos }), {
    minLength: 1,
    maxLength: 3,
    selector: f => f.filter
  })
})
const publish = fc.record({
  from: fc.nat(PUBLISHERS - 1),
  topic: fc.constantFrom(...TOPICS),
  qos,
  retain: fc.boolean()
})
const step = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      publishes: fc.array(publish, { minLength: 1, maxLength: 4 })
    })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), sub: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), sub: fc.nat(1) }) }
)
const scenario = fc.record({
  subscribers: fc.array(subscriber, { minLength: 1, maxLength: 2 }),
  steps: fc.array(step, { minLength: 1, maxLength: 4 })
})

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

interface Got { from: number, seq: number, topic: string, qos: number, retain: boolean }
interface Sub {
  id: string
  persistent: boolean
  filters: Array<{ filter: string, qos: QoS }>
  client: mqtt.MqttClient | null
  got: Got[]
  markers: number
  /** seq → the QoS it must arrive at (owed), or 0 (may arrive once, at QoS 0) */
  expected: Map<number, number>
  /** seqs of retained publishes it matches */
  retained: Set<number>
  /** seq → the QoS it was published at */
  published: Map<number, number>
}

/** Deliveries as live messages (a message's retain flag is cleared for live subscribers, MQTT 3.1.1 §3.3.1.3). */
function live (sub: Sub): Got[] {
  return sub.got.filter(g => !g.retain)
}

t.test(`${CASES} generated cases: every QoS 1/2 message once, at the highest QoS, in order`, async t => {
  // Info, not debug: a thousand cases' connection lines would cost more than the cases.
  const app = await startApp(t, { config: open, logLevel: 'info' })
  const clients = new Set<mqtt.MqttClient>()
  t.teardown(() => { for (const c of clients) c.end(true) })
  const dial = async (
    clientId: string,
    clean: boolean,
    onMessage?: (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => void
  ): Promise<mqtt.MqttClient> => {
    const c = mqtt.connect(app.mqttUrl, { clientId, clean, reconnectPeriod: 0, connectTimeout: 5000 })
    clients.add(c)
    c.once('close', () => clients.delete(c))
    if (onMessage !== undefined) c.on('message', onMessage)
    await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject) })
    return c
  }
  const publishers = await Promise.all(
    Array.from({ length: PUBLISHERS }, async (_, i) => await dial(`veh-prop-pub-${i}`, true))
  )
  let run = 0

  const runScenario = async ({ subscribers, steps }: Scenario): Promise<void> => {
    const id = `c${run++}`
    const base = `veh/${id}/`
    const sync = `veh/sync/${id}`
    const subs: Sub[] = subscribers.map((s, i) => ({
      id: `veh-${id}-s${i}`,
      ...s,
      client: null,
      got: [],
      markers: 0,
      expected: new Map(),
      retained: new Set(),
      published: new Map()
    }))
    const online = async (sub: Sub, clean: boolean): Promise<void> => {
      sub.client = await dial(sub.id, clean, (topic, payload, packet) => {
        if (topic === sync) { sub.markers++; return }
        const [from, seq] = payload.toString().split(':').map(Number)
        sub.got.push({ from, seq, topic: topic.slice(base.length), qos: packet.qos, retain: packet.retain })
      })
    }
    const describe = (s: Sub): string =>
      JSON.stringify({
        id: s.id,
        online: s.client?.connected,
        markers: s.markers,
        got: s.got,
        expected: [...s.expected],
        log: app.logs.filter(l => l.clientId === s.id)
      })
    const owedSoFar = (sub: Sub): number => [...sub.expected.values()].filter(q => q > 0).length
    const received = (sub: Sub): number => live(sub).filter(g => (sub.expected.get(g.seq) ?? 0) > 0).length
    const offline = async (sub: Sub): Promise<void> => {
      // Once it holds what it is owed: a QoS 1 message received but not yet acknowledged would come back (DUP)
      // after the reconnect, which QoS 1 allows.
      await waitFor(() => received(sub) >= owedSoFar(sub)).catch(() => {
        throw new Error(`before disconnecting: ${describe(sub)}`)
      })
      const c = sub.client
      sub.client = null
      await new Promise<void>(resolve => c?.end(false, {}, () => resolve()))
    }

    await Promise.all(subs.map(async sub => {
      await online(sub, !sub.persistent)
      await sub.client?.subscribeAsync(
        [...sub.filters.map(f => ({ topic: base + f.filter, qos: f.qos })), { topic: sync, qos: 1 as QoS }].reduce<
          Record<string, { qos: QoS }>
        >((o, f) => ({ ...o, [f.topic]: { qos: f.qos } }), {})
      )
    }))

    let seq = 0
    for (const s of steps) {
      if (s.kind === 'burst') {
        const sent: Array<Promise<unknown>> = []
        for (const p of s.publishes) {
          const n = seq++
          for (const sub of subs) {
            const granted = sub.filters.filter(f => covers(f.filter, p.topic)).map(f => f.qos)
            if (granted.length === 0) continue
            if (p.retain) sub.retained.add(n)
            sub.published.set(n, p.qos)
            const q = Math.min(p.qos, Math.max(...granted))
            // QoS 1/2: owed, live or queued in its persistent session. QoS 0: at most once (a persistent
            // subscriber whose DISCONNECT the broker has not read yet may still get it)
            sub.expected.set(n, q)
          }
          sent.push(publishers[p.from].publishAsync(base + p.topic, `${p.from}:${n}`, { qos: p.qos, retain: p.retain }))
        }
        await Promise.all(sent)
      } else {
        const sub = subs[s.sub % subs.length]
        if (!sub.persistent) continue
        if (s.kind === 'disconnect' && sub.client !== null) await offline(sub)
        if (s.kind === 'reconnect' && sub.client === null) await online(sub, false)
      }
    }
    await Promise.all(subs.filter(sub => sub.client === null).map(async sub => await online(sub, false)))
    try {
      for (const sub of subs) await waitFor(() => received(sub) >= owedSoFar(sub), 5000)
    } catch {}
    await Promise.all(publishers.map(async p => await p.publishAsync(sync, 'sync', { qos: 1 })))
    await waitFor(() => subs.every(sub => sub.markers >= PUBLISHERS), 5000).catch(() => {
      throw new Error(`sync markers missing: ${subs.map(describe).join('; ')}`)
    })
    // Each case has its own client ids: nothing of these sessions is used again. Its retained messages are
    // deleted: Aedes reads every retained message in the store for each new subscription.
    for (const sub of subs) sub.client?.end(true)
    const retained = new Set(
      steps.flatMap(s => (s.kind === 'burst' ? s.publishes.filter(p => p.retain).map(p => p.topic) : []))
    )
    await Promise.all(
      [...retained].map(async topic => await publishers[0].publishAsync(base + topic, '', { qos: 1, retain: true }))
    )

    for (const sub of subs) {
      // Aedes answers SUBACK before it reads the retained store for the new subscription, so a retained message
      // published right after SUBACK can come twice: live, and from the store with the retain flag (left alone,
      // outside this issue). Such a copy is checked apart: a retained publish it matches, at most once per filter.
      const fromStore = sub.got.filter(g => g.retain)
      for (const g of fromStore) {
        if (!sub.retained.has(g.seq) || fromStore.filter(h => h.seq === g.seq).length > sub.filters.length) {
          throw new Error(`${sub.id}: unexpected retained copy ${JSON.stringify(g)}`)
        }
      }
      sub.got = live(sub)
      const where = `${sub.id} (${sub.persistent ? 'persistent' : 'clean'}, ${JSON.stringify(sub.filters)})`
      for (const [n, q] of sub.expected) {
        const copies = sub.got.filter(g => g.seq === n)
        if (q > 0 && (copies.length !== 1 || copies[0].qos !== q)) {
          throw new Error(`${where}: message ${n} owed once at QoS ${q}, got ${JSON.stringify(copies)}`)
        }
        if (q === 0 && (copies.length > 1 || copies.some(c => c.qos !== 0))) {
          throw new Error(`${where}: QoS 0 message ${n} got ${JSON.stringify(copies)}`)
        }
      }
      const stray = sub.got.filter(g => !sub.expected.has(g.seq))
      if (stray.length > 0) throw new Error(`${where}: unexpected ${JSON.stringify(stray)}`)
      const last = new Map<string, number>()
      for (const g of sub.got) {
        if ((sub.expected.get(g.seq) ?? 0) === 0) continue
        const key = `${g.from} ${g.topic} ${sub.published.get(g.seq) ?? -1}`
        if ((last.get(key) ?? -1) > g.seq) {
          throw new Error(`${where}: ${g.seq} after ${last.get(key) ?? -1} from publisher ${g.from} on ${g.topic}`)
        }
        last.set(key, g.seq)
      }
    }
  }
  // Scenarios run CONCURRENT at a time (their topics and ids are their own): more interleavings, less waiting.
  const batches = fc.array(scenario, { minLength: CONCURRENT, maxLength: CONCURRENT })
  const property = fc.asyncProperty(batches, async scenarios => {
    await Promise.all(scenarios.map(runScenario))
  })
  await fc.assert(property, { numRuns: CASES / CONCURRENT, endOnFailure: true })
  t.pass(`${CASES} cases`)
})

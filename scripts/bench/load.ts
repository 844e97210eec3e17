import { randomBytes } from 'node:crypto'
import type { IClientOptions, MqttClient } from 'mqtt'
import { closeClients, connectClient } from './clients.js'

/**
 * Fan-in: `publishers` clients each publish to their own topic `<prefix>/<i>` as fast as the broker lets them,
 * and one subscriber on `<prefix>/#` (same QoS) receives everything. The rate is what the subscriber received.
 * QoS 1 keeps at most `window` unacknowledged PUBLISHes per client. QoS 0 has no acknowledgement, and TCP
 * back-pressure alone is no bound on loopback: the kernel's socket buffers grow to megabytes, which once let
 * 400,000 messages queue up and measured seconds of queueing as "latency". So QoS 0 publishing pauses while more
 * than `outstanding` messages are published but not yet received, in total.
 */
export interface FanInOptions {
  port: number
  /** mqtts:// instead of mqtt:// (clientOptions then carry the CA). */
  tls?: boolean
  host?: string
  qos: 0 | 1
  publishers: number
  /** Publishing stops at whichever comes first: durationMs, or maxMessages in total. */
  durationMs: number
  maxMessages: number
  /** QoS 1 only: unacknowledged PUBLISHes allowed per client. */
  window?: number
  /** QoS 0 only: messages published but not yet received, over all publishers. */
  outstanding?: number
  payloadBytes?: number
  topicPrefix?: string
  /** Merged into every client's options (credentials for scenarios with authentication, ...). */
  clientOptions?: IClientOptions
  /** Counters read just before publishing starts and once delivery is over (a broker's CPU ticks, ...). */
  probes?: Record<string, () => number>
}

export interface LatencySummary { samples: number, p50Ms: number, p99Ms: number, maxMs: number }

export interface FanInResult {
  sent: number
  received: number
  /** QoS 1: PUBACKs the publishers got. QoS 0: equal to sent. */
  acked: number
  /** First publish → last message received. */
  seconds: number
  /** First publish → probes read again (seconds plus up to one poll interval): the window for CPU figures. */
  windowSeconds: number
  msgsPerSec: number
  /** True if delivery stalled before every sent message arrived (lost QoS 0, a dropped connection, ...). */
  incomplete: boolean
  /** Publish → receive, under saturation: mostly queueing, not the broker's service time. */
  latency: LatencySummary
  /** CPU of this (load generator) process over the window, in % of one core. */
  generatorCpuPct: number
  probeDeltas: Record<string, number>
  errors: string[]
}

const QOS0_BURST = 16
const LATENCY_CAP = 500_000
const POLL_MS = 20
const STALL_MS = 2000

/** Messages left to send, shared by every publisher so the total stays bounded by count and by time. */
class Budget {
  sent = 0
  constructor (private left: number, private deadline: number) {}

  /** Sets the deadline once the clients are connected; returns it. */
  start (deadline: number): number {
    this.deadline = deadline
    return deadline
  }

  take (): boolean {
    if (this.left <= 0 || performance.now() >= this.deadline) return false
    this.left--
    this.sent++
    return true
  }
}

/** Counts what the subscriber got; the payload's first 8 bytes are the send time (same process, same clock). */
class Receiver {
  received = 0
  lastAt = 0
  private readonly latencies = new Float64Array(LATENCY_CAP)
  private samples = 0
  private waiting: Array<() => void> = []

  constructor (private readonly budget: Budget, private readonly outstanding: number) {}

  readonly onMessage = (_topic: string, payload: Buffer): void => {
    const now = performance.now()
    this.received++
    this.lastAt = now
    if (payload.length >= 8 && this.samples < LATENCY_CAP) {
      this.latencies[this.samples++] = now - payload.readDoubleLE(0)
    }
    // Wake paused QoS 0 publishers at half the window, not at every message, to send in bursts.
    if (this.waiting.length > 0 && this.budget.sent - this.received <= this.outstanding / 2) {
      const waiting = this.waiting
      this.waiting = []
      for (const resume of waiting) setImmediate(resume)
    }
  }

  /** False, and `resume` queued, while the QoS 0 window is full. */
  mayPublish (resume: () => void): boolean {
    if (this.budget.sent - this.received < this.outstanding) return true
    this.waiting.push(resume)
    return false
  }

  latency (): LatencySummary {
    const sorted = this.latencies.slice(0, this.samples).sort()
    const at = (q: number): number =>
      sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
    return {
      samples: sorted.length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]
    }
  }
}

function stampedPayload (bytes: number): Buffer {
  const payload = Buffer.alloc(Math.max(8, bytes))
  payload.writeDoubleLE(performance.now(), 0)
  return payload
}

/** QoS 0: bursts of writes, yielding to the event loop between bursts, pausing while the window is full. */
function publishQos0 (
  client: MqttClient,
  topic: string,
  bytes: number,
  budget: Budget,
  receiver: Receiver
): Promise<void> {
  return new Promise(resolve => {
    const burst = (): void => {
      for (let k = 0; k < QOS0_BURST; k++) {
        if (!receiver.mayPublish(burst)) return
        if (!client.connected || !budget.take()) return resolve()
        // MQTT.js calls back synchronously unless the socket is full, then on 'drain'.
        if (k < QOS0_BURST - 1) client.publish(topic, stampedPayload(bytes), { qos: 0 })
        else client.publish(topic, stampedPayload(bytes), { qos: 0 }, () => setImmediate(burst))
      }
    }
    burst()
  })
}

/** QoS 1: a sliding window of unacknowledged PUBLISHes; resolves once every one sent has been acknowledged. */
function publishQos1 (
  client: MqttClient,
  topic: string,
  bytes: number,
  budget: Budget,
  window: number,
  counts: { acked: number, errors: string[] }
): Promise<void> {
  return new Promise(resolve => {
    let inflight = 0
    let stopped = false
    const fill = (): void => {
      while (!stopped && inflight < window) {
        if (!client.connected || !budget.take()) {
          stopped = true
          break
        }
        inflight++
        client.publish(topic, stampedPayload(bytes), { qos: 1 }, err => {
          inflight--
          if (err != null) {
            counts.errors.push(err.message)
            stopped = true
          } else {
            counts.acked++
          }
          fill()
        })
      }
      if (stopped && inflight === 0) resolve()
    }
    fill()
  })
}

function sampleProbes (probes: Record<string, () => number>): Record<string, number> {
  return Object.fromEntries(Object.entries(probes).map(([name, read]) => [name, read()]))
}

/** Waits until everything sent has arrived, or until nothing moved for STALL_MS after publishing ended. */
async function awaitDelivery (
  budget: Budget,
  receiver: Receiver,
  counts: { acked: number },
  publishing: { done: boolean },
  deadline: number
): Promise<boolean> {
  let last = -1
  let lastChange = performance.now()
  for (;;) {
    if (publishing.done && receiver.received >= budget.sent) return true
    const progress = receiver.received + counts.acked
    const now = performance.now()
    if (progress !== last || now < deadline) {
      last = progress
      lastChange = now
    } else if (now - lastChange > STALL_MS) {
      return false
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
}

export async function fanIn (opts: FanInOptions): Promise<FanInResult> {
  const url = `${opts.tls === true ? 'mqtts' : 'mqtt'}://${opts.host ?? '127.0.0.1'}:${opts.port}`
  const prefix = opts.topicPrefix ?? 'bench/fanin'
  const bytes = opts.payloadBytes ?? 64
  // Short and unique: Aedes' default limit on client ids is 23 characters.
  const run = randomBytes(3).toString('hex')
  const clients: MqttClient[] = []
  try {
    const sub = await connectClient(url, `bench-sub-${run}`, opts.clientOptions)
    clients.push(sub)
    const probes = opts.probes ?? {}
    const counts = { acked: 0, errors: [] as string[] }
    const publishing = { done: false }
    const budget = new Budget(opts.maxMessages, Infinity)
    const receiver = new Receiver(budget, opts.outstanding ?? 2000)
    sub.on('message', receiver.onMessage)
    await sub.subscribeAsync(`${prefix}/#`, { qos: opts.qos })
    for (let i = 0; i < opts.publishers; i++) {
      clients.push(await connectClient(url, `bench-pub-${run}-${i}`, opts.clientOptions))
    }
    const publishers = clients.slice(1)

    const before = sampleProbes(probes)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const deadline = budget.start(t0 + opts.durationMs)
    void Promise.all(publishers.map((client, i) => opts.qos === 0
      ? publishQos0(client, `${prefix}/${i}`, bytes, budget, receiver)
      : publishQos1(client, `${prefix}/${i}`, bytes, budget, opts.window ?? 10, counts)
    )).then(() => { publishing.done = true })

    const complete = await awaitDelivery(budget, receiver, counts, publishing, deadline)
    const after = sampleProbes(probes)
    const cpu = process.cpuUsage(cpu0)
    const windowMs = performance.now() - t0
    const end = receiver.lastAt > t0 ? receiver.lastAt : performance.now()
    const seconds = (end - t0) / 1000
    return {
      sent: budget.sent,
      received: receiver.received,
      acked: opts.qos === 0 ? budget.sent : counts.acked,
      seconds,
      windowSeconds: windowMs / 1000,
      msgsPerSec: receiver.received / seconds,
      incomplete: !complete,
      latency: receiver.latency(),
      generatorCpuPct: (cpu.user + cpu.system) / 1000 / windowMs * 100,
      probeDeltas: Object.fromEntries(Object.keys(probes).map(name => [name, after[name] - before[name]])),
      errors: counts.errors
    }
  } finally {
    await closeClients(clients)
  }
}

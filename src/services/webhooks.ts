import type { Timer } from '../clock.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { Logger } from '../log.js'
import type { DueDelivery } from '../persistence/repositories/webhook-outbox.js'
import { backoffMs } from './webhook-policy.js'
import { deliveryHeaders, eventTypeOf } from './webhook-wire.js'

interface InFlight { controller: AbortController, done: Promise<void> }
type Outcome = { ok: true } | { ok: false, error: string }

/** Passes over the outbox in one pump before it settles for a timer (only a racing writer makes a second one). */
const MAX_ROUNDS = 10
const DAY_MS = 86_400_000
/** How often delivered and failed deliveries past `events.retentionDays` are deleted. */
const PRUNE_INTERVAL_MS = 3_600_000
/** Characters of a refusing endpoint's answer kept in `last_error`. */
const ERROR_SNIPPET = 200

/**
 * Delivers the webhook outbox (`webhook_deliveries`, written by the events service with each event): signed JSON
 * POSTs, at most `webhooks.concurrency` at once and one per endpoint, so a slow endpoint holds one slot only.
 * A 2xx answer delivers; anything else (or no answer within `timeoutMs`) is retried after an exponential backoff
 * with full jitter, up to `maxAttempts`, then the delivery is `failed`. After `breakerThreshold` consecutive
 * failures an endpoint's circuit opens for `breakerCooldownMs`; then one trial request closes or re-opens it.
 *
 * At least once: a delivery is marked only after its answer, so one in flight when the process stops or dies is
 * sent again after the restart (with the same X-AutoCore-Delivery id, for the receiver to dedupe by).
 * Wakes on `webhooks.queued` and on a clock timer set for the next due delivery; never polls. Delivered and
 * failed rows are deleted after `events.retentionDays`; pending ones are kept.
 */
export class WebhookService implements Service {
  readonly name = 'webhooks'
  private readonly log: Logger
  private readonly inFlight = new Map<number, InFlight>()
  private timer?: Timer
  private pruner?: Timer
  private running = false
  private pumping?: Promise<void>
  private again = false
  private readonly wake = (): void => {
    void this.pump()
  }

  constructor (private readonly ctx: Services) {
    this.log = ctx.log.child({ module: 'webhooks' })
  }

  async start (): Promise<void> {
    this.running = true
    this.ctx.bus.on('webhooks.queued', this.wake)
    await this.prune()
    this.pruner = this.ctx.clock.setInterval(() => { void this.prune() }, PRUNE_INTERVAL_MS)
    // Deliveries left pending by the previous run (stopped, crashed, or waiting for a backoff or a circuit).
    await this.pump()
  }

  async stop (): Promise<void> {
    this.running = false
    this.ctx.bus.off('webhooks.queued', this.wake)
    this.timer?.cancel()
    this.pruner?.cancel()
    for (const f of this.inFlight.values()) f.controller.abort()
    await Promise.all([this.pumping, ...[...this.inFlight.values()].map(f => f.done)])
  }

  /** Delivered and failed deliveries live as long as events do (`events.retentionDays`). */
  private async prune (): Promise<void> {
    try {
      const deleted = await this.ctx.repos.outbox.prune(
        this.ctx.clock.now() - this.ctx.config.events.retentionDays * DAY_MS
      )
      if (deleted > 0) this.log.info({ deleted }, 'old webhook deliveries deleted')
    } catch (err) {
      this.log.error({ err }, 'old webhook deliveries not deleted')
    }
  }

  /** Starts every due delivery there is a slot for, then sets the timer for the next one; one pass at a time. */
  private async pump (): Promise<void> {
    if (this.pumping !== undefined) {
      this.again = true
      return
    }
    this.pumping = this.pass().finally(() => { this.pumping = undefined })
    await this.pumping
  }

  private async pass (): Promise<void> {
    const cfg = this.ctx.config.webhooks
    try {
      for (let round = 0; this.running; round++) {
        this.again = false
        const free = cfg.concurrency - this.inFlight.size
        if (free > 0) {
          for (const d of await this.ctx.repos.outbox.due(this.ctx.clock.now(), [...this.inFlight.keys()], free)) {
            this.launch(d)
          }
        }
        const wait = await this.nextWait()
        // Due already (it fell due while this pass ran): go round again rather than arm a timer for the past.
        if (wait !== undefined && wait <= 0 && round < MAX_ROUNDS) continue
        if (wait !== undefined && this.running) this.setTimer(Math.max(0, wait))
        if (!this.again) return
      }
    } catch (err) {
      if (!this.running) return
      this.log.error({ err }, 'webhook outbox not read')
      this.setTimer(cfg.baseDelayMs)
    }
  }

  /**
   * Time until the next due delivery; undefined when there is none, or every slot is taken (a finishing request pumps).
   */
  private async nextWait (): Promise<number | undefined> {
    this.timer?.cancel()
    this.timer = undefined
    if (this.inFlight.size >= this.ctx.config.webhooks.concurrency) return undefined
    const at = await this.ctx.repos.outbox.nextDueAt([...this.inFlight.keys()])
    return at === undefined ? undefined : at - this.ctx.clock.now()
  }

  private setTimer (ms: number): void {
    this.timer?.cancel()
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined
      void this.pump()
    }, ms)
  }

  private launch (d: DueDelivery): void {
    if (!this.running || this.inFlight.has(d.webhookId)) return
    const controller = new AbortController()
    const done = this.attempt(d, controller)
      .catch(err => {
        this.log.error({ err, webhookId: d.webhookId, deliveryId: d.id }, 'webhook attempt not ' +
        'recorded')
      })
      .finally(() => {
        this.inFlight.delete(d.webhookId)
        void this.pump()
      })
    this.inFlight.set(d.webhookId, { controller, done })
  }

  private async attempt (d: DueDelivery, controller: AbortController): Promise<void> {
    const cfg = this.ctx.config.webhooks
    const outcome = await this.send(d, controller)
    // Stopped mid-request: the row stays pending and is sent again after the restart (at least once).
    if (outcome === undefined) return
    const now = this.ctx.clock.now()
    const attempts = d.attempts + 1
    const ids = { webhookId: d.webhookId, deliveryId: d.id }
    if (outcome.ok) {
      await this.ctx.repos.outbox.recordAttempt(
        d,
        { status: 'delivered', attempts, lastError: null, at: now },
        { failureCount: 0, circuitOpenUntil: null }
      )
      if (d.failureCount >= cfg.breakerThreshold) this.log.info(ids, 'webhook circuit closed')
      this.log.debug({ ...ids, attempts }, 'webhook delivered')
      return
    }
    const failureCount = d.failureCount + 1
    const circuitOpenUntil = failureCount >= cfg.breakerThreshold ? now + cfg.breakerCooldownMs : null
    const dead = attempts >= cfg.maxAttempts
    await this.ctx.repos.outbox.recordAttempt(d, {
      status: dead ? 'failed' : 'pending',
      attempts,
      lastError: outcome.error,
      at: now,
      nextAttemptAt: dead ? undefined : now + backoffMs(attempts, cfg)
    }, { failureCount, circuitOpenUntil })
    if (circuitOpenUntil !== null) {
      this.log.warn({ ...ids, failureCount, until: new Date(circuitOpenUntil).toISOString() }, 'webhook circuit open')
    }
    if (dead) this.log.warn({ ...ids, attempts, error: outcome.error }, 'webhook delivery failed')
    else this.log.info({ ...ids, attempts, error: outcome.error }, 'webhook delivery attempt failed')
  }

  /** One signed POST; undefined when it was cut short by stop(). */
  private async send (d: DueDelivery, controller: AbortController): Promise<Outcome | undefined> {
    const { timeoutMs } = this.ctx.config.webhooks
    let timedOut = false
    const timer = this.ctx.clock.setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    try {
      const headers = deliveryHeaders(
        { id: d.id, eventType: eventTypeOf(d.body), body: d.body },
        d.secret,
        this.ctx.clock.now()
      )
      // A redirect is not followed: the signed body goes only where the admin pointed it (a 3xx is a failure).
      const res = await fetch(d.url, {
        method: 'POST',
        headers,
        body: d.body,
        signal: controller.signal,
        redirect: 'manual'
      })
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel()
        return { ok: true }
      }
      const text = await snippet(res)
      return { ok: false, error: `HTTP ${res.status}${text === '' ? '' : `: ${text}`}` }
    } catch (err) {
      if (timedOut) return { ok: false, error: `no answer within ${timeoutMs} ms` }
      if (!this.running) return undefined
      return { ok: false, error: describe(err) }
    } finally {
      timer.cancel()
    }
  }
}

/** The start of an answer's body, for last_error; the rest is not read. */
async function snippet (res: Response): Promise<string> {
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < ERROR_SNIPPET * 4) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.length
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, ERROR_SNIPPET)
}

/** fetch's "fetch failed" says little; its cause says what (connect ECONNREFUSED 127.0.0.1:8081, bad port, ...). */
function describe (err: unknown): string {
  const e = err as { message?: string, cause?: { message?: string } }
  const message = e.message ?? String(err)
  return e.cause?.message === undefined ? message : `${message}: ${e.cause.message}`
}

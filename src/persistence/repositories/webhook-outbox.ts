import type { DataSource, EntityManager } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { EventLog, type EventLevel } from '../../../entities/event-log.js'
import { WebhookDelivery } from '../../../entities/webhook-delivery.js'
import { Webhook } from '../../../entities/webhook.js'
import { eventColumns, type NewEvent } from './events.js'
import { query } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'

/** A webhook as the fan-out sees it: enough to decide whether an event goes to it. */
export interface FanOutTarget { id: number, events: string[], minLevel: EventLevel }

/**
 * How one event fans out: which webhooks get it, and the body of each delivery (known once the delivery has its
 * id). `only` targets one webhook whatever its filter (a test delivery).
 */
export interface FanOut {
  match: (hook: FanOutTarget) => boolean
  body: (eventId: number, deliveryId: number) => string
  only?: number
}

/** A delivery due to be attempted, with what the attempt needs from its webhook. */
export interface DueDelivery {
  id: number
  webhookId: number
  body: string
  attempts: number
  url: string
  secret: string
  failureCount: number
}

export interface AttemptResult {
  attempts: number
  /** After a failure: 'pending' (retried at nextAttemptAt) or 'failed' (given up). */
  status: 'delivered' | 'pending' | 'failed'
  nextAttemptAt?: number
  lastError: string | null
  at: number
}

interface DueRow {
  id: number
  webhook_id: number
  payload: string
  attempts: number
  url: string
  secret: string
  failure_count: number
}
interface WakeRow { webhook_id: number, next: number | string, open_until: number | string | null }

const INSERT_EVENT =
  'INSERT INTO event_logs (ts, level, event_type, source, action, target, username, payload) VALUES (?, ?, ?, ?, ?, ' +
    '?, ?, ?)'
const ENABLED_HOOKS = 'SELECT id, events, min_level FROM webhooks WHERE enabled = 1'
const ONE_HOOK = 'SELECT id, events, min_level FROM webhooks WHERE id = ?'
const INSERT_DELIVERY =
  'INSERT INTO webhook_deliveries (webhook_id, event_id, payload, status, attempts, next_attempt_at, created_at) ' +
    "VALUES (?, ?, '', 'pending', 0, ?, ?)"
const SET_BODY = 'UPDATE webhook_deliveries SET payload = ? WHERE id = ?'

/**
 * The durable outbox (`webhook_deliveries`): an event and its deliveries are written in one transaction, so an
 * event is never logged without them; the delivery service reads due rows here and records each attempt.
 */
export class WebhookOutboxRepository {
  private readonly sqlite: SqliteStore | undefined
  private writeNative?: (e: NewEvent, fan: FanOut) => { eventId: number, deliveryIds: number[] }

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  /**
   * Inserts the event row and one pending delivery per matching webhook. On SQLite this is one synchronous
   * transaction on the single connection, run once no TypeORM transaction is open on it (it would otherwise nest
   * into that one, and be rolled back with it).
   */
  async insertEvent (e: NewEvent, fan: FanOut): Promise<{ eventId: number, deliveryIds: number[] }> {
    if (this.sqlite !== undefined) {
      const write = this.writeNative ??= this.prepareNative(this.sqlite)
      return await this.sqlite.write(() => write(e, fan))
    }
    return await this.ds.transaction(m => this.insertWithManager(m, e, fan))
  }

  private prepareNative (db: SqliteStore): (e: NewEvent, fan: FanOut) => { eventId: number, deliveryIds: number[] } {
    const insertEvent = db.statement(INSERT_EVENT)
    const enabled = db.statement(ENABLED_HOOKS)
    const one = db.statement(ONE_HOOK)
    const insertDelivery = db.statement(INSERT_DELIVERY)
    const setBody = db.statement(SET_BODY)
    return db.transactional((e: NewEvent, fan: FanOut) => {
      const { payload, ...columns } = eventColumns(e)
      const eventId = Number(
        insertEvent.run(...Object.values(columns), payload === null ? null : JSON.stringify(payload)).lastInsertRowid
      )
      const rows = (fan.only === undefined ? enabled.all() : one.all(fan.only)) as Array<{
        id: number
        events: string
        min_level: EventLevel
      }>
      const deliveryIds: number[] = []
      for (const hook of targets(rows, fan)) {
        const id = Number(insertDelivery.run(hook.id, eventId, e.ts, e.ts).lastInsertRowid)
        setBody.run(fan.body(eventId, id), id)
        deliveryIds.push(id)
      }
      return { eventId, deliveryIds }
    })
  }

  private async insertWithManager (
    m: EntityManager,
    e: NewEvent,
    fan: FanOut
  ): Promise<{ eventId: number, deliveryIds: number[] }> {
    const inserted = await m.insert(EventLog, eventColumns(e) as QueryDeepPartialEntity<EventLog>)
    const eventId = Number(inserted.identifiers[0].id)
    const hooks = await m.find(Webhook, {
      where: fan.only === undefined ? { enabled: true } : { id: fan.only },
      select: { id: true, events: true, minLevel: true }
    })
    const deliveryIds: number[] = []
    for (const hook of targets(
      hooks.map(h => ({ id: h.id, events: JSON.stringify(h.events), min_level: h.minLevel })),
      fan
    )) {
      const d = await m.insert(WebhookDelivery, {
        webhookId: hook.id,
        eventId,
        payload: '',
        status: 'pending',
        attempts: 0,
        nextAttemptAt: e.ts,
        createdAt: e.ts
      })
      const id = Number(d.identifiers[0].id)
      await m.update(WebhookDelivery, { id }, { payload: fan.body(eventId, id) })
      deliveryIds.push(id)
    }
    return { eventId, deliveryIds }
  }

  /**
   * Up to `limit` due deliveries, at most one per webhook and none of the `busy` webhooks (one request in flight per
   * endpoint), oldest first, skipping disabled webhooks and open circuits.
   */
  async due (now: number, busy: number[], limit: number): Promise<DueDelivery[]> {
    const notBusy = busy.length === 0 ? '' : ` AND d.webhook_id NOT IN (${busy.map(() => '?').join(', ')})`
    const picked = await query<{ id: number }>(this.ds,
      'SELECT MIN(d.id) AS id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id ' +
      'WHERE d.status = ? AND d.next_attempt_at <= ? AND w.enabled = ? AND (w.circuit_open_until IS NULL OR ' +
        'w.circuit_open_until <= ?)' + notBusy +
      ' GROUP BY d.webhook_id ORDER BY MIN(d.id) LIMIT ?',
      ['pending', now, true, now, ...busy, limit])
    if (picked.length === 0) return []
    const rows = await query<DueRow>(this.ds,
      'SELECT d.id, d.webhook_id, d.payload, d.attempts, w.url, w.secret, w.failure_count FROM webhook_deliveries d ' +
        'JOIN webhooks w ON w.id = d.webhook_id ' +
      `WHERE d.id IN (${picked.map(() => '?').join(', ')}) ORDER BY d.id`, picked.map(p => Number(p.id)))
    return rows.map(r => ({
      id: Number(r.id),
      webhookId: Number(r.webhook_id),
      body: r.payload,
      attempts: Number(r.attempts),
      url: r.url,
      secret: r.secret,
      failureCount: Number(r.failure_count)
    }))
  }

  /**
   * When the next pending delivery of an enabled, not busy webhook falls due (its backoff or its circuit, whichever is
   * later).
   */
  async nextDueAt (busy: number[]): Promise<number | undefined> {
    const rows = await query<WakeRow>(this.ds,
      'SELECT d.webhook_id AS webhook_id, MIN(d.next_attempt_at) AS next, w.circuit_open_until AS open_until FROM ' +
        'webhook_deliveries d ' +
      'JOIN webhooks w ON w.id = d.webhook_id WHERE d.status = ? AND w.enabled = ? GROUP BY d.webhook_id, ' +
        'w.circuit_open_until',
      ['pending', true])
    let at: number | undefined
    for (const r of rows) {
      if (busy.includes(Number(r.webhook_id))) continue
      const due = Math.max(Number(r.next), r.open_until === null ? 0 : Number(r.open_until))
      at = at === undefined ? due : Math.min(at, due)
    }
    return at
  }

  /**
   * Records one attempt of a delivery, then the endpoint's breaker columns. Two statements, no transaction: attempts
   * of different endpoints finish concurrently, and a crash between the two only leaves the breaker a count behind.
   */
  async recordAttempt (
    d: { id: number, webhookId: number },
    r: AttemptResult,
    breaker: { failureCount: number, circuitOpenUntil: number | null }
  ): Promise<void> {
    const delivery =
      r.status === 'delivered'
        ? { status: r.status, attempts: r.attempts, deliveredAt: r.at, lastError: null }
        : {
            status: r.status,
            attempts: r.attempts,
            lastError: r.lastError,
            ...(r.nextAttemptAt === undefined ? {} : { nextAttemptAt: r.nextAttemptAt })
          }
    await this.ds.getRepository(WebhookDelivery).update({ id: d.id, status: 'pending' }, delivery)
    await this.ds.getRepository(Webhook).update({ id: d.webhookId }, breaker)
  }

  /**
   * Deletes delivered and failed deliveries created before `before`, in chunks; pending ones are kept whatever their
   * age.
   */
  async prune (before: number, chunk = 5000): Promise<number> {
    let deleted = 0
    for (;;) {
      const ids = await query<{ id: number }>(
        this.ds,
        'SELECT id FROM webhook_deliveries WHERE status IN (?, ?) AND created_at < ? ORDER BY id LIMIT ?',
        ['delivered', 'failed', before, chunk]
      )
      if (ids.length === 0) return deleted
      await this.ds.getRepository(WebhookDelivery).delete(ids.map(r => Number(r.id)))
      deleted += ids.length
      if (ids.length < chunk) return deleted
    }
  }
}

function targets (rows: Array<{ id: number, events: string, min_level: EventLevel }>, fan: FanOut): FanOutTarget[] {
  const hooks = rows.map(r => ({ id: Number(r.id), events: JSON.parse(r.events) as string[], minLevel: r.min_level }))
  return fan.only === undefined ? hooks.filter(h => fan.match(h)) : hooks
}

import type { DataSource, EntityManager } from 'typeorm'
import { decodeMinutes, encodeMinutes, type MinuteAggregate } from '../chunks/aggregates.js'
import { forPostgres, query } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'

/** An aggregate chunk holds one series' minutes of one UTC day. */
export const AGGREGATE_CHUNK_MS = 86_400_000

const OLDEST = `SELECT device_id, key, bucket_start FROM telemetry_aggregates WHERE bucket_start < ?
  ORDER BY bucket_start LIMIT 1`
/** The day's minute rows, taken out in the statement that returns them (as telemetry-chunks.ts takes head rows). */
const TAKE = `DELETE FROM telemetry_aggregates
  WHERE device_id = ? AND key = ? AND bucket_start >= ? AND bucket_start < ?
  RETURNING bucket_start, count, min, max, avg, last`
const EXISTING = 'SELECT id, data FROM telemetry_aggregate_chunks WHERE device_id = ? AND key = ? AND day_start = ?'
const INSERT = `INSERT INTO telemetry_aggregate_chunks (device_id, key, day_start, minutes, data)
  VALUES (?, ?, ?, ?, ?)`
const UPDATE = 'UPDATE telemetry_aggregate_chunks SET minutes = ?, data = ? WHERE id = ?'
const DROP = `DELETE FROM telemetry_aggregate_chunks WHERE id IN (SELECT id FROM telemetry_aggregate_chunks
  WHERE day_start < ? ORDER BY day_start LIMIT ?)`

interface Oldest { device_id: number | string, key: string, bucket_start: number | string }
interface Row {
  bucket_start: number | string, count: number | string, min: number, max: number, avg: number, last: number
}
interface Existing { id: number | string, data: Uint8Array }

/** A bucket of the series answer, with the start of its newest minute (which side's `last` wins). */
export interface Bucket extends MinuteAggregate { newest: number }

/**
 * The day's chunk after the rows join it: a minute in both (a late reading of a minute already compacted) merges
 * as the row store's upsert does (counts add up, min/max/avg merge, the row's `last` wins: it is the newer).
 */
function merged (old: MinuteAggregate[], rows: Row[]): MinuteAggregate[] {
  const byT = new Map(old.map(m => [m.t, m]))
  for (const r of rows) {
    const m = { t: Number(r.bucket_start), count: Number(r.count), min: r.min, max: r.max, avg: r.avg, last: r.last }
    const a = byT.get(m.t)
    byT.set(m.t, a === undefined ? m : combine(a, m, true))
  }
  return [...byT.values()].sort((a, b) => a.t - b.t)
}

/** Two aggregates of the same span: `last` from `b` when `bWins`. */
function combine<T extends MinuteAggregate> (a: T, b: T, bWins: boolean): T {
  return {
    ...(bWins ? b : a),
    count: a.count + b.count,
    min: b.min < a.min ? b.min : a.min,
    max: b.max > a.max ? b.max : a.max,
    avg: (a.avg * a.count + b.avg * b.count) / (a.count + b.count)
  }
}

/**
 * telemetry_aggregate_chunks: the minute aggregates (telemetry_aggregates) of a day of one series in one BLOB,
 * rewritten as the day's hours close, read back by the series answer, dropped a day at a time. Compacting one
 * (series, day) is one transaction: its rows are taken out and the chunk written (or rewritten, merged), so a
 * minute is always in exactly one place or merged from both by the reader.
 */
export class TelemetryAggregateChunkRepository {
  private readonly sqlite: SqliteStore | undefined

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  /**
   * Compacts the day of the oldest minute aggregate before `cutoff` for its series: that day's minute rows join
   * the day's chunk. Resolves with the number of minute rows moved; 0 when none is older.
   */
  async compactOne (cutoff: number): Promise<number> {
    const db = this.sqlite
    if (db !== undefined) {
      return await db.transaction(() => {
        const o = db.statement(OLDEST).get(cutoff) as Oldest | undefined
        if (o === undefined) return 0
        const [id, day] = [Number(o.device_id), dayOf(o)]
        const rows = db.statement(TAKE).all(id, o.key, day, day + AGGREGATE_CHUNK_MS) as Row[]
        const old = db.statement(EXISTING).get(id, o.key, day) as Existing | undefined
        const ms = merged(old === undefined ? [] : decodeMinutes(old.data), rows)
        const data = Buffer.from(encodeMinutes(ms))
        if (old === undefined) db.statement(INSERT).run(id, o.key, day, ms.length, data)
        else db.statement(UPDATE).run(ms.length, data, old.id)
        return rows.length
      }, { immediate: true })
    }
    return await this.ds.transaction(async m => {
      const [o] = await pg<Oldest>(m, OLDEST, [cutoff])
      if (o === undefined) return 0
      const [id, day] = [Number(o.device_id), dayOf(o)]
      const rows = await pg<Row>(m, `WITH d AS (${TAKE}) SELECT * FROM d`, [id, o.key, day, day + AGGREGATE_CHUNK_MS])
      const [old] = await pg<Existing>(m, EXISTING, [id, o.key, day])
      const ms = merged(old === undefined ? [] : decodeMinutes(old.data), rows)
      const data = Buffer.from(encodeMinutes(ms))
      if (old === undefined) await pg(m, INSERT, [id, o.key, day, ms.length, data])
      else await pg(m, UPDATE, [ms.length, data, old.id])
      return rows.length
    })
  }

  /**
   * Drops up to `limit` day chunks whose day ended by `cutoff`; resolves with how many. A day is dropped whole,
   * so its minutes outlive the row store's (minute by minute) by up to a day.
   */
  async drop (cutoff: number, limit: number): Promise<number> {
    const before = cutoff - AGGREGATE_CHUNK_MS + 1
    const db = this.sqlite
    if (db !== undefined) return await db.write(() => db.statement(DROP).run(before, limit).changes)
    const sql = `WITH d AS (${DROP} RETURNING 1) SELECT COUNT(*) AS n FROM d`
    const [d] = await pg<{ n: string }>(this.ds.manager, sql, [before, limit])
    return Number(d.n)
  }

  /**
   * Adds the compacted minutes in [from, to) of one key, but those in `skip`, to the series' buckets of
   * `bucketMs`: a bucket in both merges, `last` from the newer minute (the row's when the same minute is in both:
   * a late reading's). Decodes only the days the range touches.
   */
  async addBuckets (points: Map<number, Bucket>, deviceId: number, key: string, from: number, to: number,
    bucketMs: number, skip: number[]): Promise<void> {
    const rows = await query<{ data: Uint8Array }>(this.ds, `SELECT data FROM telemetry_aggregate_chunks
      WHERE device_id = ? AND key = ? AND day_start > ? AND day_start < ? ORDER BY day_start`,
    [deviceId, key, from - AGGREGATE_CHUNK_MS, to])
    if (rows.length === 0) return
    const skipped = new Set(skip)
    const mine = new Map<number, Bucket>()
    for (const row of rows) {
      for (const m of decodeMinutes(row.data)) {
        if (m.t < from || m.t >= to || skipped.has(m.t)) continue
        const b = { ...m, t: Math.floor(m.t / bucketMs) * bucketMs, newest: m.t }
        const a = mine.get(b.t)
        mine.set(b.t, a === undefined ? b : both(a, b))
      }
    }
    for (const [t, c] of mine) {
      const a = points.get(t)
      // The same minute on both sides: the row's (a late reading's) `last` wins, as in `merged`.
      points.set(t, a === undefined ? c : both(c, a, true))
    }
  }
}

/** Two buckets of the same start: `last` from the newer minute (from `b` on a tie when `bOnTie`). */
function both (a: Bucket, b: Bucket, bOnTie = false): Bucket {
  const bWins = b.newest > a.newest || (bOnTie && b.newest === a.newest)
  return { ...combine(a, b, bWins), t: a.t, newest: Math.max(a.newest, b.newest) }
}

function dayOf (o: Oldest): number {
  return Math.floor(Number(o.bucket_start) / AGGREGATE_CHUNK_MS) * AGGREGATE_CHUNK_MS
}

async function pg<T = unknown> (m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return await m.query(forPostgres(sql), params) as T[]
}

import type { DataSource, EntityManager } from 'typeorm'
import { forPostgres } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'

export const MINUTE_MS = 60_000

/**
 * Folds raw rows of one chunk into per-minute aggregates. A minute is never split between raw rows and its
 * aggregate, because chunk ends are minute-aligned. A row that lands later in an already folded minute (a device
 * replaying old readings) is merged into the aggregate (count, min, max and the count-weighted avg stay exact;
 * `last` becomes the late row's minute-last). Textual readings are not aggregated, only deleted.
 * `id <= ?` pins the chunk to the rows seen when it started (on PostgreSQL an insert may commit in between).
 */
/** A minute already folded takes the new readings in: counts add up, min/max/avg merge, the newer last wins. */
export const MERGE_AGGREGATE = `ON CONFLICT (device_id, key, bucket_start) DO UPDATE SET
    count = telemetry_aggregates.count + excluded.count,
    min = CASE WHEN excluded.min < telemetry_aggregates.min THEN excluded.min ELSE telemetry_aggregates.min END,
    max = CASE WHEN excluded.max > telemetry_aggregates.max THEN excluded.max ELSE telemetry_aggregates.max END,
    avg = (telemetry_aggregates.avg * telemetry_aggregates.count + excluded.avg * excluded.count)
          / (telemetry_aggregates.count + excluded.count),
    last = excluded.last`
const FOLD = `
  INSERT INTO telemetry_aggregates (device_id, key, bucket_start, count, min, max, avg, last)
  SELECT g.device_id, g.key, g.b, g.c, g.mn, g.mx, g.av,
    (SELECT t2.value FROM telemetry_data t2
      WHERE t2.device_id = g.device_id AND t2.key = g.key AND t2.ts >= g.b AND t2.ts < g.b + ${MINUTE_MS}
        AND t2.value IS NOT NULL AND t2.id <= ?
      ORDER BY t2.ts DESC, t2.id DESC LIMIT 1)
  FROM (SELECT device_id, key, (ts / ${MINUTE_MS}) * ${MINUTE_MS} AS b, COUNT(*) AS c, MIN(value) AS mn,
          MAX(value) AS mx, AVG(value) AS av
        FROM telemetry_data WHERE ts < ? AND id <= ? AND value IS NOT NULL
        GROUP BY device_id, key, (ts / ${MINUTE_MS}) * ${MINUTE_MS}) g
  WHERE true
  ${MERGE_AGGREGATE}`

const DELETE_RAW = 'DELETE FROM telemetry_data WHERE ts < ? AND id <= ?'
const DELETE_AGGREGATES =
  'DELETE FROM telemetry_aggregates WHERE id IN (SELECT id FROM telemetry_aggregates WHERE bucket_start < ? ORDER BY ' +
    'bucket_start LIMIT ?)'
const DELETE_EVENTS = 'DELETE FROM event_logs WHERE id IN (SELECT id FROM event_logs WHERE ts < ? ORDER BY ts LIMIT ?)'

/** Where a chunk of at most `rows` raw rows older than `cutoff` ends: a minute boundary, at most `cutoff`. */
const CHUNK_BOUNDS = `SELECT (SELECT MIN(ts) FROM telemetry_data WHERE ts < ?) AS first,
  (SELECT ts FROM telemetry_data WHERE ts < ? ORDER BY ts LIMIT 1 OFFSET ?) AS nth,
  (SELECT MAX(id) FROM telemetry_data) AS max_id`

function chunkEnd (first: number, nth: number | null, cutoff: number): number {
  if (nth === null) return cutoff
  const firstMinute = Math.floor(first / MINUTE_MS) * MINUTE_MS
  let end = Math.floor(nth / MINUTE_MS) * MINUTE_MS
  // The whole chunk sits in one minute: take that minute whole (a minute is the unit of folding).
  if (end <= firstMinute) end = firstMinute + MINUTE_MS
  return Math.min(end, cutoff)
}

interface Bounds { first: number | string | null, nth: number | string | null, max_id: number | string | null }

/** The retention job's statements over telemetry_data, telemetry_aggregates and event_logs. */
export class TelemetryRetentionRepository {
  private readonly sqlite: SqliteStore | undefined

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  /**
   * Folds and deletes one chunk of raw rows older than `cutoff` (minute-aligned) in one transaction.
   * Resolves with the number of raw rows deleted; 0 when nothing older is left.
   */
  async foldChunk (cutoff: number, chunkRows: number): Promise<number> {
    if (cutoff % MINUTE_MS !== 0) throw new RangeError('cutoff must be minute-aligned')
    const db = this.sqlite
    if (db !== undefined) {
      return await db.transaction(() => {
        const b = db.statement(CHUNK_BOUNDS).get(cutoff, cutoff, chunkRows - 1) as Bounds
        if (b.first === null) return 0
        const end = chunkEnd(Number(b.first), b.nth === null ? null : Number(b.nth), cutoff)
        db.statement(FOLD).run(b.max_id, end, b.max_id)
        return db.statement(DELETE_RAW).run(end, b.max_id).changes
      }, { immediate: true })
    }
    return await this.ds.transaction(async m => {
      const [b] = await pg<Bounds>(m, CHUNK_BOUNDS, [cutoff, cutoff, chunkRows - 1])
      if (b.first === null) return 0
      const end = chunkEnd(Number(b.first), b.nth === null ? null : Number(b.nth), cutoff)
      await pg(m, FOLD, [b.max_id, end, b.max_id])
      const [d] = await pg<{ n: string }>(m, `WITH d AS (${DELETE_RAW} RETURNING 1) SELECT COUNT(*) AS n FROM d`, [
        end,
        b.max_id
      ])
      return Number(d.n)
    })
  }

  /** Deletes up to `limit` aggregates older than `cutoff`; resolves with how many. */
  async deleteAggregates (cutoff: number, limit: number): Promise<number> {
    return await this.deleteChunk(DELETE_AGGREGATES, cutoff, limit)
  }

  /** Deletes up to `limit` events older than `cutoff`; resolves with how many. */
  async deleteEvents (cutoff: number, limit: number): Promise<number> {
    return await this.deleteChunk(DELETE_EVENTS, cutoff, limit)
  }

  private async deleteChunk (sql: string, cutoff: number, limit: number): Promise<number> {
    const db = this.sqlite
    if (db !== undefined) return await db.write(() => db.statement(sql).run(cutoff, limit).changes)
    const [d] = await pg<{ n: string }>(this.ds.manager, `WITH d AS (${sql} RETURNING 1) SELECT COUNT(*) AS n FROM d`, [
      cutoff,
      limit
    ])
    return Number(d.n)
  }

  /**
   * Gives freed pages back (SQLite): `incremental_vacuum` when the file was created with auto_vacuum=INCREMENTAL
   * (data-source.ts sets it before the first table exists), then a WAL checkpoint that truncates the WAL.
   * On a file created without it, freed pages stay in the file's free list and are reused by new rows.
   */
  reclaim (): { autoVacuum: number, freePages: number } | undefined {
    return this.sqlite?.reclaim()
  }
}

async function pg<T = unknown> (m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return await m.query(forPostgres(sql), params) as T[]
}

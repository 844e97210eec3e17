import type { DataSource, EntityManager } from 'typeorm'
import type { TelemetryDataType } from '../../../entities/telemetry-data.js'
import { forEachReading, type ChunkReading } from '../chunks/codec.js'
import { forPostgres, query } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'
import { MERGE_AGGREGATE, MINUTE_MS } from './telemetry-retention.js'
import { HeadMirror, RANGE_IDS, type HeadColumns, type RangeIds } from './head-mirror.js'
import { bySeries, chunkRow, minutes } from './chunk-rows.js'

/** A chunk holds readings of one series from one hour of reading time (windows aligned to the epoch). */
export const CHUNK_WINDOW_MS = 3_600_000
/** The window's partial chunks are merged into one when they hold at most this many readings in all. */
export const MAX_MERGED_READINGS = 65_536

/** The oldest head reading before the cutoff: its minute starts the next slice. */
const OLDEST = 'SELECT ts FROM telemetry_data WHERE ts < ? ORDER BY ts LIMIT 1'
/** The (maxRows + 1)th head reading from the slice's start: the slice ends at its minute. */
const NTH = 'SELECT ts FROM telemetry_data WHERE ts >= ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?'
const COLUMNS = 'id, device_id, key, ts, value, value_text, unit, data_type'
/** SQLite: the slice's rows, then the same range deleted, in one IMMEDIATE transaction (no other writer between). */
const SLICE = `SELECT ${COLUMNS} FROM telemetry_data WHERE ts >= ? AND ts < ?`
const DELETE_SLICE = 'DELETE FROM telemetry_data WHERE ts >= ? AND ts < ?'
/**
 * PostgreSQL: taken out in the statement that returns them, so a row committed by another connection meanwhile
 * is either in this list, and so in a chunk, or still in the head (a DELETE inside a CTE: TypeORM answers a bare
 * DELETE ... RETURNING with [rows, count]).
 */
const TAKE_SLICE = `WITH d AS (DELETE FROM telemetry_data WHERE ts >= ? AND ts < ? RETURNING ${COLUMNS})
  SELECT * FROM d`
const INSERT_CHUNK = `INSERT INTO telemetry_chunks (device_id, key, min_ts, max_ts, count, data)
  VALUES (?, ?, ?, ?, ?, ?)`
/** Same merge as the retention fold: a late reading of an already closed minute joins its aggregate. */
const UPSERT_AGGREGATE = `INSERT INTO telemetry_aggregates (device_id, key, bucket_start, count, min, max, avg, last)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ${MERGE_AGGREGATE}`
const DROP = `DELETE FROM telemetry_chunks
  WHERE id IN (SELECT id FROM telemetry_chunks WHERE max_ts < ? ORDER BY max_ts LIMIT ?)`
/** Series windows over by the cutoff that hold more than one chunk (all of a chunk is in one window). */
const SPLIT_WINDOWS = `SELECT device_id, key, MIN(min_ts) AS min_ts, SUM(count) AS readings FROM telemetry_chunks
  WHERE max_ts < ?
  GROUP BY device_id, key, min_ts / ${CHUNK_WINDOW_MS}
  HAVING COUNT(*) > 1 AND SUM(count) <= ${MAX_MERGED_READINGS}
  LIMIT 64`
/**
 * SQLite: the same, among the windows of the chunks written after an id or ending from a time on, what a pass that
 * found nothing to merge had not looked at yet (see mergeOne), so a pass does not scan a week of chunks. Parameters:
 * id, cutoff, time, cutoff. NOT INDEXED and CROSS JOIN hold the plan: chunk ids from the one given, the windows'
 * chunks by (device, key, max_ts).
 */
const SPLIT_WINDOWS_SINCE = `WITH fresh AS (
    SELECT device_id, key, min_ts / ${CHUNK_WINDOW_MS} AS w FROM telemetry_chunks NOT INDEXED
      WHERE id > ? AND max_ts < ?
    UNION
    SELECT device_id, key, min_ts / ${CHUNK_WINDOW_MS} AS w FROM telemetry_chunks WHERE max_ts >= ? AND max_ts < ?)
  SELECT c.device_id, c.key, MIN(c.min_ts) AS min_ts, SUM(c.count) AS readings
  FROM fresh f CROSS JOIN telemetry_chunks c ON c.device_id = f.device_id AND c.key = f.key
    AND c.max_ts >= f.w * ${CHUNK_WINDOW_MS} AND c.max_ts < (f.w + 1) * ${CHUNK_WINDOW_MS}
  GROUP BY c.device_id, c.key, f.w
  HAVING COUNT(*) > 1 AND SUM(c.count) <= ${MAX_MERGED_READINGS}
  LIMIT 64`
const LAST_CHUNK = 'SELECT COALESCE(MAX(id), 0) AS id FROM telemetry_chunks'
const WINDOW_CHUNKS = `SELECT id, data FROM telemetry_chunks
  WHERE device_id = ? AND key = ? AND max_ts >= ? AND max_ts < ? AND min_ts >= ?`
const DELETE_CHUNK = 'DELETE FROM telemetry_chunks WHERE id = ?'

interface HeadRow extends Pick<ChunkReading, 'value' | 'unit'> {
  id: number | string,
  device_id: number | string,
  key: string,
  ts: number | string,
  value_text: string | null,
  data_type: TelemetryDataType
}
interface Oldest { ts: number | string }
interface SplitWindow { device_id: number | string, key: string, min_ts: number | string, readings: number | string }
interface WindowChunk { id: number | string, data: Uint8Array }
export interface ChunkRef { id: number, key: string, minTs: number, maxTs: number }

function columns (r: HeadRow): HeadColumns {
  return [r.id, r.device_id, r.key, r.ts, r.value, r.value_text, r.unit, r.data_type]
}

/** The slice starts at the oldest reading's minute and may not pass its hour's end nor the cutoff. */
function sliceLimits (oldest: number, cutoff: number): [number, number] {
  const start = Math.floor(oldest / MINUTE_MS) * MINUTE_MS
  return [start, Math.min(cutoff, Math.floor(oldest / CHUNK_WINDOW_MS) * CHUNK_WINDOW_MS + CHUNK_WINDOW_MS)]
}

/** Ends at the minute of the reading past maxRows (or the limit when there is none), at least a minute long. */
function sliceEnd (start: number, limit: number, nth: Oldest | undefined): number {
  if (nth === undefined) return limit
  return Math.min(limit, Math.max(start + MINUTE_MS, Math.floor(Number(nth.ts) / MINUTE_MS) * MINUTE_MS))
}

function windowOf (w: SplitWindow): [number, number] {
  const from = Math.floor(Number(w.min_ts) / CHUNK_WINDOW_MS) * CHUNK_WINDOW_MS
  return [from, from + CHUNK_WINDOW_MS]
}

/** The first windows whose readings add up to about maxRows (at least one). */
function batch (windows: SplitWindow[], maxRows: number): SplitWindow[] {
  let total = 0
  return windows.filter(w => (total += Number(w.readings)) - Number(w.readings) < maxRows)
}

/**
 * telemetry_chunks: closing chunks from the head (telemetry_data), merging an hour's chunks, reading them back,
 * dropping them by age. Closing a slice is one transaction: the head rows of some whole minutes are taken out,
 * encoded into one chunk per series and folded into per-minute aggregates; merging is one transaction too (the
 * parts deleted, the whole written): all or nothing, so a power cut leaves each reading in exactly one place.
 */
export class TelemetryChunkRepository {
  private readonly sqlite: SqliteStore | undefined
  /** SQLite: the head's rows as inserted (TelemetryRepository adds them), so a slice is closed without reading them. */
  readonly mirror = new HeadMirror()
  /** SQLite: what the last merge pass that found nothing had looked at (chunk ids up to, windows over by). */
  private looked = { id: 0, until: Number.MIN_SAFE_INTEGER }

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  /**
   * Closes the next slice of the head: whole minutes from the oldest head reading older than `cutoff` (a minute
   * boundary), at most `maxRows` readings (at least one whole minute), never past the end of that reading's hour.
   * Each series' readings of the slice become one chunk, and its minutes aggregates, in one transaction; the
   * hour's chunks of a series are merged into one by mergeOne once the hour is over. Resolves with the number of
   * readings moved; 0 when the head holds nothing older.
   */
  async closeOne (cutoff: number, maxRows = 20_000): Promise<number> {
    if (cutoff % MINUTE_MS !== 0) throw new RangeError('cutoff must be minute-aligned')
    const db = this.sqlite
    if (db !== undefined) {
      this.mirror.start()
      const closed = await db.transaction(() => {
        const o = db.statement(OLDEST).get(cutoff) as Oldest | undefined
        if (o === undefined) return undefined
        const [start, limit] = sliceLimits(Number(o.ts), cutoff)
        const end = sliceEnd(start, limit, db.statement(NTH).get(start, limit, maxRows) as Oldest | undefined)
        const rows = this.mirror.slice(start, end, db.statement(RANGE_IDS).get(start, end) as RangeIds) ??
          db.statement(SLICE).raw(true).all(start, end) as HeadColumns[]
        const deleted = db.statement(DELETE_SLICE).run(start, end).changes
        if (deleted !== rows.length) throw new Error(`chunk slice: read ${rows.length} rows, deleted ${deleted}`)
        const [chunk, up] = [db.statement(INSERT_CHUNK), db.statement(UPSERT_AGGREGATE)]
        for (const s of bySeries(rows)) {
          const { chunk: c, aggregates } = this.encode(s.deviceId, s.key, s.rows)
          chunk.run(...c)
          for (const a of aggregates) up.run(...a)
        }
        return { start, end, n: rows.length }
      }, { immediate: true })
      if (closed === undefined) return 0
      this.mirror.forget(closed.start, closed.end)
      return closed.n
    }
    return await this.ds.transaction(async m => {
      const [o] = await pg<Oldest>(m, OLDEST, [cutoff])
      if (o === undefined) return 0
      const [start, limit] = sliceLimits(Number(o.ts), cutoff)
      const [nth] = await pg<Oldest>(m, NTH, [start, limit, maxRows])
      const rows = await pg<HeadRow>(m, TAKE_SLICE, [start, sliceEnd(start, limit, nth)])
      for (const s of bySeries(rows.map(columns))) {
        const { chunk, aggregates } = this.encode(s.deviceId, s.key, s.rows)
        await pg(m, INSERT_CHUNK, chunk)
        for (const a of aggregates) await pg(m, UPSERT_AGGREGATE, a)
      }
      return rows.length
    })
  }

  /**
   * Merges the chunks of series hours over by `cutoff` (an hour boundary) that hold several (the slices closeOne
   * wrote), a batch of at most about `maxRows` readings in one transaction: each such hour of a series becomes one
   * chunk of its readings in insertion order (any age: a converted database's old hours too). Resolves with the
   * number of readings merged.
   */
  async mergeOne (cutoff: number, maxRows = 20_000): Promise<number> {
    if (cutoff % CHUNK_WINDOW_MS !== 0) throw new RangeError('cutoff must be aligned to the chunk window')
    const db = this.sqlite
    if (db !== undefined) {
      return await db.transaction(() => {
        const last = Number((db.statement(LAST_CHUNK).get() as { id: number }).id)
        const { id, until } = this.looked
        const windows = db.statement(SPLIT_WINDOWS_SINCE).all(id, cutoff, until, cutoff) as SplitWindow[]
        // Nothing to merge: every window over by the cutoff, of chunks up to `last`, is whole (or too large).
        // Chunk ids only grow (AUTOINCREMENT), so the next pass need only look at newer chunks and newly over
        // windows. Kept in memory: after a restart the first pass looks at all.
        if (windows.length === 0) this.looked = { id: last, until: cutoff }
        let merged = 0
        for (const w of batch(windows, maxRows)) {
          const [from, to] = windowOf(w)
          const parts = db.statement(WINDOW_CHUNKS).all(w.device_id, w.key, from, to, from) as WindowChunk[]
          const c = this.merge(Number(w.device_id), w.key, parts)
          for (const p of parts) db.statement(DELETE_CHUNK).run(p.id)
          db.statement(INSERT_CHUNK).run(...c)
          merged += Number(w.readings)
        }
        return merged
      }, { immediate: true })
    }
    return await this.ds.transaction(async m => {
      // All of them on PostgreSQL: a chunk another connection commits later may have a smaller id.
      const windows = await pg<SplitWindow>(m, SPLIT_WINDOWS, [cutoff])
      let merged = 0
      for (const w of batch(windows, maxRows)) {
        const [from, to] = windowOf(w)
        const parts = await pg<WindowChunk>(m, `${WINDOW_CHUNKS} FOR UPDATE`, [w.device_id, w.key, from, to, from])
        const c = this.merge(Number(w.device_id), w.key, parts)
        for (const p of parts) await pg(m, DELETE_CHUNK, [p.id])
        await pg(m, INSERT_CHUNK, c)
        merged += Number(w.readings)
      }
      return merged
    })
  }

  private merge (deviceId: number, key: string, parts: WindowChunk[]): unknown[] {
    const rows: ChunkReading[] = []
    for (const p of parts) forEachReading(p.data, r => { rows.push(r) })
    return chunkRow(deviceId, key, rows)
  }

  private encode (deviceId: number, key: string, rows: ChunkReading[]): { chunk: unknown[], aggregates: unknown[][] } {
    return {
      chunk: chunkRow(deviceId, key, rows),
      aggregates: minutes(rows).map(a => [deviceId, key, a.b, a.count, a.min, a.max, a.sum / a.count, a.last])
    }
  }

  /** Drops up to `limit` whole chunks whose newest reading is older than `cutoff`; resolves with how many. */
  async drop (cutoff: number, limit: number): Promise<number> {
    const db = this.sqlite
    if (db !== undefined) return await db.write(() => db.statement(DROP).run(cutoff, limit).changes)
    const sql = `WITH d AS (${DROP} RETURNING 1) SELECT COUNT(*) AS n FROM d`
    const [d] = await pg<{ n: string }>(this.ds.manager, sql, [cutoff, limit])
    return Number(d.n)
  }

  /** The chunks of a device (one key or all) that may hold readings in [from, to), newest first. */
  async chunks (deviceId: number, q: { key?: string, from: number, to: number, maxTs?: number }): Promise<ChunkRef[]> {
    const where = ['device_id = ?', 'max_ts >= ?', 'min_ts < ?']
    const params: unknown[] = [deviceId, q.from, q.to]
    if (q.key !== undefined) { where.push('key = ?'); params.push(q.key) }
    if (q.maxTs !== undefined) { where.push('min_ts <= ?'); params.push(q.maxTs) }
    const rows = await query<{ id: number, key: string, min_ts: number | string, max_ts: number | string }>(this.ds,
      `SELECT id, key, min_ts, max_ts FROM telemetry_chunks WHERE ${where.join(' AND ')}
      ORDER BY max_ts DESC, id DESC`, params)
    return rows.map(r => ({ id: Number(r.id), key: r.key, minTs: Number(r.min_ts), maxTs: Number(r.max_ts) }))
  }

  /** The chunks of one key holding its newest timestamp (several when they tie). */
  async newest (deviceId: number, key: string): Promise<ChunkRef[]> {
    const rows = await query<{ id: number, key: string, min_ts: number | string, max_ts: number | string }>(this.ds,
      `SELECT id, key, min_ts, max_ts FROM telemetry_chunks WHERE device_id = ? AND key = ?
        AND max_ts = (SELECT MAX(max_ts) FROM telemetry_chunks WHERE device_id = ? AND key = ?)`,
      [deviceId, key, deviceId, key])
    return rows.map(r => ({ id: Number(r.id), key: r.key, minTs: Number(r.min_ts), maxTs: Number(r.max_ts) }))
  }

  /** Decodes one chunk, calling `visit` with each reading. */
  async read (id: number, visit: (r: ChunkReading) => void): Promise<void> {
    const [row] = await query<{ data: Uint8Array }>(this.ds, 'SELECT data FROM telemetry_chunks WHERE id = ?', [id])
    if (row !== undefined) forEachReading(row.data, r => { visit(r) })
  }
}

async function pg<T = unknown> (m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return await m.query(forPostgres(sql), params) as T[]
}

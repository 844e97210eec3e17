import type { DataSource, EntityManager } from 'typeorm'
import type { TelemetryDataType } from '../../../entities/telemetry-data.js'
import { ChunkEncoder, forEachReading, type ChunkReading } from '../chunks/codec.js'
import { forPostgres, query } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'
import { MERGE_AGGREGATE, MINUTE_MS } from './telemetry-retention.js'

/** A chunk holds one series' readings of one hour of reading time (windows aligned to the epoch). */
export const CHUNK_WINDOW_MS = 3_600_000

/** The oldest head reading before the cutoff: its window is the next to close. */
const OLDEST = 'SELECT ts FROM telemetry_data WHERE ts < ? ORDER BY ts LIMIT 1'
/**
 * The head rows of the window, series by series (the (device, key, ts) index), taken out in the statement that
 * returns them: a row committed by another connection meanwhile (PostgreSQL) is either in this list, and so in a
 * chunk, or still in the head.
 */
const TAKE = `DELETE FROM telemetry_data WHERE id IN (
    SELECT id FROM telemetry_data INDEXED BY idx_telemetry_data_device_key_ts
    WHERE ts >= ? AND ts < ? ORDER BY device_id, key, ts LIMIT ?)
  RETURNING id, device_id, key, ts, value, value_text, unit, data_type`
const INSERT_CHUNK = `INSERT INTO telemetry_chunks (device_id, key, min_ts, max_ts, count, data)
  VALUES (?, ?, ?, ?, ?, ?)`
/** Same merge as the retention fold: a late reading of an already closed minute joins its aggregate. */
const UPSERT_AGGREGATE = `INSERT INTO telemetry_aggregates (device_id, key, bucket_start, count, min, max, avg, last)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ${MERGE_AGGREGATE}`
const DROP = `DELETE FROM telemetry_chunks
  WHERE id IN (SELECT id FROM telemetry_chunks WHERE max_ts < ? ORDER BY max_ts LIMIT ?)`

interface HeadRow extends Pick<ChunkReading, 'value' | 'unit'> {
  id: number | string,
  device_id: number | string,
  key: string,
  ts: number | string,
  value_text: string | null,
  data_type: TelemetryDataType
}
interface Oldest { ts: number | string }
export interface ChunkRef { id: number, key: string, minTs: number, maxTs: number }

interface Minute {
  b: number, count: number, min: number, max: number, sum: number, last: number, lastTs: number, lastId: number
}

/** Per-minute count, min, max, avg and last (by ts, then id) of the numeric readings. */
function minutes (rs: ChunkReading[]): Minute[] {
  const m = new Map<number, Minute>()
  for (const r of rs) {
    if (r.value === null) continue
    const b = Math.floor(r.ts / MINUTE_MS) * MINUTE_MS
    const a = m.get(b)
    const v = r.value
    if (a === undefined) m.set(b, { b, count: 1, min: v, max: v, sum: v, last: v, lastTs: r.ts, lastId: r.id })
    else {
      a.count++
      if (r.value < a.min) a.min = r.value
      if (r.value > a.max) a.max = r.value
      a.sum += r.value
      if (r.ts > a.lastTs || (r.ts === a.lastTs && r.id > a.lastId)) {
        a.last = r.value; a.lastTs = r.ts; a.lastId = r.id
      }
    }
  }
  return [...m.values()]
}

/** The rows of each series (device, key), as readings. */
function bySeries (rows: HeadRow[]): Array<{ deviceId: number, key: string, rows: ChunkReading[] }> {
  const out = new Map<string, { deviceId: number, key: string, rows: ChunkReading[] }>()
  for (const r of rows) {
    const id = `${r.device_id}\u0000${r.key}`
    let s = out.get(id)
    if (s === undefined) out.set(id, s = { deviceId: Number(r.device_id), key: r.key, rows: [] })
    s.rows.push(reading(r))
  }
  return [...out.values()]
}

function reading (r: HeadRow): ChunkReading {
  const { value, unit } = r
  return { id: Number(r.id), ts: Number(r.ts), value, valueText: r.value_text, unit, dataType: r.data_type }
}

/**
 * telemetry_chunks: closing chunks from the head (telemetry_data), reading them back, dropping them by age.
 * Closing one chunk is one transaction: the series' head rows of one window are taken out, encoded into a chunk
 * and folded into per-minute aggregates, all or nothing, so a power cut leaves each reading in exactly one place.
 */
export class TelemetryChunkRepository {
  private readonly sqlite: SqliteStore | undefined

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  /**
   * Closes the window (an hour, epoch-aligned) of the oldest head reading older than `cutoff`: every series'
   * readings of that window, at most `maxRows` of them in all (a bigger window takes several passes, and the series
   * cut at the limit gets two chunks), one chunk per series, in one transaction. Resolves with the number of
   * readings moved; 0 when the head holds nothing older.
   */
  async closeOne (cutoff: number, maxRows = 20_000): Promise<number> {
    if (cutoff % CHUNK_WINDOW_MS !== 0) throw new RangeError('cutoff must be aligned to the chunk window')
    const db = this.sqlite
    if (db !== undefined) {
      return await db.transaction(() => {
        const o = db.statement(OLDEST).get(cutoff) as Oldest | undefined
        if (o === undefined) return 0
        const start = Math.floor(Number(o.ts) / CHUNK_WINDOW_MS) * CHUNK_WINDOW_MS
        const rows = db.statement(TAKE).all(start, start + CHUNK_WINDOW_MS, maxRows) as HeadRow[]
        const [chunk, up] = [db.statement(INSERT_CHUNK), db.statement(UPSERT_AGGREGATE)]
        for (const s of bySeries(rows)) {
          const { chunk: c, aggregates } = this.encode(s.deviceId, s.key, s.rows)
          chunk.run(...c)
          for (const a of aggregates) up.run(...a)
        }
        return rows.length
      }, { immediate: true })
    }
    return await this.ds.transaction(async m => {
      const [o] = await pg<Oldest>(m, OLDEST, [cutoff])
      if (o === undefined) return 0
      const start = Math.floor(Number(o.ts) / CHUNK_WINDOW_MS) * CHUNK_WINDOW_MS
      // A DELETE inside a CTE: TypeORM answers a bare DELETE ... RETURNING with [rows, count] on PostgreSQL.
      const take = TAKE.replace(/INDEXED BY \w+/, '')
      const window = [start, start + CHUNK_WINDOW_MS, maxRows]
      const rows = await pg<HeadRow>(m, `WITH d AS (${take}) SELECT * FROM d`, window)
      for (const s of bySeries(rows)) {
        const { chunk, aggregates } = this.encode(s.deviceId, s.key, s.rows)
        await pg(m, INSERT_CHUNK, chunk)
        for (const a of aggregates) await pg(m, UPSERT_AGGREGATE, a)
      }
      return rows.length
    })
  }

  private encode (deviceId: number, key: string, rows: ChunkReading[]): { chunk: unknown[], aggregates: unknown[][] } {
    // Insertion order: the ids (and, mostly, the timestamps) then grow by steady steps, which encode smallest.
    rows.sort((a, b) => a.id - b.id)
    const enc = new ChunkEncoder()
    for (const r of rows) enc.append(r)
    const bytes = enc.bytes()
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return {
      chunk: [deviceId, key, enc.minTs, enc.maxTs, enc.count, data],
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

import type { DataSource } from 'typeorm'
import type BetterSqlite3 from 'better-sqlite3'
import { TelemetryData, type TelemetryDataType } from '../../../entities/telemetry-data.js'
import { nativeSqlite, query } from './sql.js'

/** One reading as it is written: the column values of a telemetry_data row. */
export interface TelemetryRow {
  deviceId: number
  key: string
  value: number | null
  valueText: string | null
  unit: string | null
  dataType: TelemetryDataType
  ts: number
}

export interface ReadingOut {
  key: string
  value: number | boolean | string | null
  unit: string | null
  ts: number
}

export interface RawPage { items: Array<ReadingOut & { id: number }>, next: string | null }

export interface SeriesPoint { t: number, count: number, min: number, max: number, avg: number, last: number }

interface RawRow { id: number, key: string, value: number | null, value_text: string | null, unit: string | null, data_type: TelemetryDataType, ts: number | string }

const INSERT = 'INSERT INTO telemetry_data (device_id, key, value, value_text, unit, data_type, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'
// Postgres caps a statement at 65,535 parameters: 7 per row.
const PG_ROWS_PER_INSERT = 5000

/** SQLite's SQLITE_CONSTRAINT_FOREIGNKEY or PostgreSQL's 23503, as thrown directly or wrapped by TypeORM. */
function isForeignKeyViolation (err: unknown): boolean {
  const e = err as { code?: string, driverError?: { code?: string } }
  const code = e.driverError?.code ?? e.code
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503'
}

function out (r: RawRow): ReadingOut & { id: number } {
  const value = r.data_type === 'string' ? r.value_text : r.data_type === 'boolean' ? r.value === 1 : r.value
  return { id: Number(r.id), key: r.key, value, unit: r.unit, ts: Number(r.ts) }
}

/**
 * The only code that reads and writes telemetry_data (retention, in telemetry-retention.ts, folds it into
 * telemetry_aggregates). On SQLite the batch insert is a prepared statement in a synchronous transaction on
 * TypeORM's own connection; on PostgreSQL it is TypeORM's `insert()`.
 */
export class TelemetryRepository {
  private readonly native: BetterSqlite3.Database | undefined
  private readonly deviceIds = new Map<string, number>()
  private insertStmt?: BetterSqlite3.Statement<unknown[]>
  private insertMany?: (rows: TelemetryRow[]) => void
  private lookupStmt?: BetterSqlite3.Statement
  private existsStmt?: BetterSqlite3.Statement
  /** SQLite only (undefined on PostgreSQL): insertBatch, committed before it returns. */
  readonly insertBatchSync?: (rows: TelemetryRow[]) => { dropped: number }

  constructor (private readonly ds: DataSource) {
    this.native = nativeSqlite(ds)
    if (this.native !== undefined) this.insertBatchSync = rows => this.insertSqlite(rows)
  }

  /**
   * devices.id of a uuid, cached once known; undefined when no such device. Synchronous on SQLite (an indexed
   * lookup on the in-process connection), so the publish path needs no promise.
   */
  deviceId (uuid: string): number | undefined | Promise<number | undefined> {
    const cached = this.deviceIds.get(uuid)
    if (cached !== undefined) return cached
    if (this.native !== undefined) {
      this.lookupStmt ??= this.native.prepare('SELECT id FROM devices WHERE uuid = ?')
      const row = this.lookupStmt.get(uuid) as { id: number } | undefined
      if (row !== undefined) this.deviceIds.set(uuid, row.id)
      return row?.id
    }
    return query<{ id: number }>(this.ds, 'SELECT id FROM devices WHERE uuid = ?', [uuid]).then(rows => {
      if (rows.length > 0) this.deviceIds.set(uuid, Number(rows[0].id))
      return rows.length > 0 ? Number(rows[0].id) : undefined
    })
  }

  /** Forgets a cached uuid (a device deleted or re-created). */
  forgetDevice (uuid: string): void {
    this.deviceIds.delete(uuid)
  }

  /**
   * True while another transaction holds the (single) SQLite connection: better-sqlite3 would nest a batch
   * into it as a savepoint, making the batch's durability depend on someone else's commit. The writer waits.
   */
  busy (): boolean {
    return this.native?.inTransaction ?? false
  }

  /**
   * Writes the rows in one transaction; resolved once committed, with how many rows were dropped because their
   * device no longer exists (deleted while connected): the rest of the batch is written without them.
   */
  async insertBatch (rows: TelemetryRow[]): Promise<{ dropped: number }> {
    if (rows.length === 0) return { dropped: 0 }
    if (this.native !== undefined) return this.insertSqlite(rows)
    try {
      await this.insertOnce(rows)
      return { dropped: 0 }
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err
      this.deviceIds.clear()
      const ids = [...new Set(rows.map(r => r.deviceId))]
      const existing = new Set((await query<{ id: number }>(this.ds, `SELECT id FROM devices WHERE id IN (${ids.map(() => '?').join(', ')})`, ids)).map(r => Number(r.id)))
      const kept = rows.filter(r => existing.has(r.deviceId))
      if (kept.length > 0) await this.insertOnce(kept)
      return { dropped: rows.length - kept.length }
    }
  }

  /** insertBatch on SQLite, synchronous: the rows of devices deleted meanwhile are dropped, the rest written. */
  private insertSqlite (rows: TelemetryRow[]): { dropped: number } {
    if (rows.length === 0) return { dropped: 0 }
    try {
      this.insertManySync(rows)
      return { dropped: 0 }
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err
      this.deviceIds.clear()
      this.existsStmt ??= (this.native as BetterSqlite3.Database).prepare('SELECT 1 FROM devices WHERE id = ?')
      const stmt = this.existsStmt
      const existing = new Set([...new Set(rows.map(r => r.deviceId))].filter(id => stmt.get(id) !== undefined))
      const kept = rows.filter(r => existing.has(r.deviceId))
      if (kept.length > 0) this.insertManySync(kept)
      return { dropped: rows.length - kept.length }
    }
  }

  private async insertOnce (rows: TelemetryRow[]): Promise<void> {
    await this.ds.transaction(async m => {
      for (let i = 0; i < rows.length; i += PG_ROWS_PER_INSERT) {
        // updateEntity(false): no RETURNING/re-select of generated columns (on SQLite that re-select has one OR
        // term per row and fails past ~1,000 rows: "Expression tree is too large").
        await m.createQueryBuilder().insert().into(TelemetryData).values(rows.slice(i, i + PG_ROWS_PER_INSERT)).updateEntity(false).execute()
      }
    })
  }

  /** SQLite only: the batch in one synchronous transaction; committed when it returns. */
  insertManySync (rows: TelemetryRow[]): void {
    const db = this.native as BetterSqlite3.Database
    if (this.insertMany === undefined) {
      const stmt = this.insertStmt = db.prepare<unknown[]>(INSERT)
      this.insertMany = db.transaction((batch: TelemetryRow[]) => {
        for (const r of batch) stmt.run(r.deviceId, r.key, r.value, r.valueText, r.unit, r.dataType, r.ts)
      })
    }
    this.insertMany(rows)
  }

  /** The last reading of every key of a device (keys found with a skip scan over the (device, key, ts) index). */
  async latest (deviceId: number): Promise<ReadingOut[]> {
    const keys = await query<{ key: string }>(this.ds, `
      WITH RECURSIVE k(key) AS (
        SELECT MIN(key) FROM telemetry_data WHERE device_id = ?
        UNION ALL
        SELECT (SELECT MIN(key) FROM telemetry_data WHERE device_id = ? AND key > k.key) FROM k WHERE k.key IS NOT NULL
      ) SELECT key FROM k WHERE key IS NOT NULL`, [deviceId, deviceId])
    const result: ReadingOut[] = []
    for (const { key } of keys) {
      const rows = await query<RawRow>(this.ds, `SELECT id, key, value, value_text, unit, data_type, ts FROM telemetry_data
        WHERE device_id = ? AND key = ? ORDER BY ts DESC, id DESC LIMIT 1`, [deviceId, key])
      const { id: _id, ...reading } = out(rows[0])
      result.push(reading)
    }
    return result
  }

  /** Raw readings, newest first; `cursor` is the `next` of the previous page. */
  async raw (deviceId: number, q: { key?: string, from: number, to: number, limit: number, cursor?: { ts: number, id: number } }): Promise<RawPage> {
    const where = ['device_id = ?', 'ts >= ?', 'ts < ?']
    const params: unknown[] = [deviceId, q.from, q.to]
    if (q.key !== undefined) { where.push('key = ?'); params.push(q.key) }
    if (q.cursor !== undefined) { where.push('(ts < ? OR (ts = ? AND id < ?))'); params.push(q.cursor.ts, q.cursor.ts, q.cursor.id) }
    const rows = await query<RawRow>(this.ds, `SELECT id, key, value, value_text, unit, data_type, ts FROM telemetry_data
      WHERE ${where.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ?`, [...params, q.limit + 1])
    const items = rows.slice(0, q.limit).map(out)
    const last = items[items.length - 1]
    return { items, next: rows.length > q.limit ? `${last.ts}:${last.id}` : null }
  }

  /**
   * Buckets of `bucketMs` over [from, to) for one key, from raw rows and per-minute aggregates alike: a bucket
   * that straddles the retention boundary combines both (count-weighted average; `last` from the newer side).
   */
  async series (deviceId: number, key: string, from: number, to: number, bucketMs: number): Promise<SeriesPoint[]> {
    // bucketMs is inlined: an integer checked here (PostgreSQL cannot type a bare parameter in arithmetic).
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new RangeError('bucketMs must be a positive integer')
    const params = [deviceId, key, from, to]
    const agg = await query<Record<string, number | string>>(this.ds, `
      SELECT b, SUM(count) AS count, MIN(min) AS min, MAX(max) AS max, SUM(avg * count) / SUM(count) AS avg,
        MAX(CASE WHEN rn = 1 THEN last END) AS last
      FROM (SELECT (bucket_start / ${bucketMs}) * ${bucketMs} AS b, count, min, max, avg, last,
              ROW_NUMBER() OVER (PARTITION BY bucket_start / ${bucketMs} ORDER BY bucket_start DESC) AS rn
            FROM telemetry_aggregates WHERE device_id = ? AND key = ? AND bucket_start >= ? AND bucket_start < ?) a
      GROUP BY b`, params)
    const raw = await query<Record<string, number | string>>(this.ds, `
      SELECT b, COUNT(*) AS count, MIN(value) AS min, MAX(value) AS max, AVG(value) AS avg,
        MAX(CASE WHEN rn = 1 THEN value END) AS last
      FROM (SELECT (ts / ${bucketMs}) * ${bucketMs} AS b, value,
              ROW_NUMBER() OVER (PARTITION BY ts / ${bucketMs} ORDER BY ts DESC, id DESC) AS rn
            FROM telemetry_data WHERE device_id = ? AND key = ? AND ts >= ? AND ts < ? AND value IS NOT NULL) r
      GROUP BY b`, params)
    const points = new Map<number, SeriesPoint>()
    const num = (r: Record<string, number | string>, k: string): number => Number(r[k])
    for (const r of agg) points.set(num(r, 'b'), { t: num(r, 'b'), count: num(r, 'count'), min: num(r, 'min'), max: num(r, 'max'), avg: num(r, 'avg'), last: num(r, 'last') })
    for (const r of raw) {
      const p = { t: num(r, 'b'), count: num(r, 'count'), min: num(r, 'min'), max: num(r, 'max'), avg: num(r, 'avg'), last: num(r, 'last') }
      const a = points.get(p.t)
      // Raw rows are always newer than the aggregates of the same bucket, so `last` comes from them.
      points.set(p.t, a === undefined
        ? p
        : { t: p.t, count: a.count + p.count, min: Math.min(a.min, p.min), max: Math.max(a.max, p.max), avg: (a.avg * a.count + p.avg * p.count) / (a.count + p.count), last: p.last })
    }
    return [...points.values()].sort((a, b) => a.t - b.t)
  }
}

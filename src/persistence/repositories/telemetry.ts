import type { DataSource } from 'typeorm'
import { TelemetryData, type TelemetryDataType } from '../../../entities/telemetry-data.js'
import { query } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'
import { TelemetryChunkRepository } from './telemetry-chunks.js'
import { TelemetryAggregateChunkRepository } from './telemetry-aggregate-chunks.js'
import { seriesOf, type SeriesPoint } from './telemetry-series.js'
import type { ChunkReading } from '../chunks/codec.js'

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

export type { SeriesPoint } from './telemetry-series.js'

interface RawRow {
  id: number
  key: string
  value: number | null
  value_text: string | null
  unit: string | null
  data_type: TelemetryDataType
  ts: number | string
}

const DEVICE_ID = 'SELECT id FROM devices WHERE uuid = ?'
const INSERT =
  'INSERT INTO telemetry_data (device_id, key, value, value_text, unit, data_type, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'
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

function chunkRow (key: string, r: ChunkReading): RawRow {
  return { id: r.id, key, value: r.value, value_text: r.valueText, unit: r.unit, data_type: r.dataType, ts: r.ts }
}

/** Newest first: ts, then id, descending (the order of every raw answer). */
function newerFirst (a: RawRow, b: RawRow): number {
  return Number(b.ts) - Number(a.ts) || Number(b.id) - Number(a.id)
}

/**
 * The only code that reads and writes telemetry_data (retention, in telemetry-retention.ts, folds it into
 * telemetry_aggregates). On SQLite the batch insert is a prepared statement in a synchronous transaction on
 * TypeORM's own connection; on PostgreSQL it is TypeORM's `insert()`.
 */
export class TelemetryRepository {
  private readonly sqlite: SqliteStore | undefined
  private readonly deviceIds = new Map<string, number>()
  private insertMany?: (rows: TelemetryRow[], ids?: number[]) => void
  /** Closed chunks (telemetry_chunks): every query reads them beside the head, telemetry_data. */
  readonly chunks: TelemetryChunkRepository
  /** Days of minute aggregates in chunks (telemetry_aggregate_chunks): the series answer reads them too. */
  readonly aggregateChunks: TelemetryAggregateChunkRepository
  /** SQLite only (undefined on PostgreSQL): insertBatch, committed before it returns. */
  readonly insertBatchSync?: (rows: TelemetryRow[]) => { dropped: number }

  constructor (
    private readonly ds: DataSource,
    chunks?: TelemetryChunkRepository,
    aggregateChunks?: TelemetryAggregateChunkRepository
  ) {
    this.sqlite = sqliteStore(ds)
    this.chunks = chunks ?? new TelemetryChunkRepository(ds)
    this.aggregateChunks = aggregateChunks ?? new TelemetryAggregateChunkRepository(ds)
    if (this.sqlite !== undefined) this.insertBatchSync = rows => this.insertSqlite(rows)
  }

  /**
   * devices.id of a uuid, cached once known; undefined when no such device. Synchronous on SQLite (an indexed
   * lookup on the in-process connection), so the publish path needs no promise.
   */
  deviceId (uuid: string): number | undefined | Promise<number | undefined> {
    const cached = this.deviceIds.get(uuid)
    if (cached !== undefined) return cached
    if (this.sqlite !== undefined) {
      const row = this.sqlite.statement(DEVICE_ID).get(uuid) as { id: number } | undefined
      if (row !== undefined) this.deviceIds.set(uuid, row.id)
      return row?.id
    }
    return query<{ id: number }>(this.ds, DEVICE_ID, [uuid]).then(rows => {
      if (rows.length > 0) this.deviceIds.set(uuid, Number(rows[0].id))
      return rows.length > 0 ? Number(rows[0].id) : undefined
    })
  }

  /** Forgets a cached uuid (a device deleted or re-created). */
  forgetDevice (uuid: string): void {
    this.deviceIds.delete(uuid)
  }

  /**
   * True while another transaction holds the (single) SQLite connection (SqliteStore.busy): a batch written now
   * would be nested into it, its durability tied to someone else's commit. The writer waits.
   */
  busy (): boolean {
    return this.sqlite?.busy() ?? false
  }

  /**
   * Writes the rows in one transaction; resolved once committed, with how many rows were dropped because their
   * device no longer exists (deleted while connected): the rest of the batch is written without them.
   */
  async insertBatch (rows: TelemetryRow[]): Promise<{ dropped: number }> {
    if (rows.length === 0) return { dropped: 0 }
    if (this.sqlite !== undefined) return this.insertSqlite(rows)
    try {
      await this.insertOnce(rows)
      return { dropped: 0 }
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err
      this.deviceIds.clear()
      const ids = [...new Set(rows.map(r => r.deviceId))]
      const existing = new Set(
        (
          await query<{ id: number }>(
            this.ds,
            `SELECT id FROM devices WHERE id IN (${ids.map(() => '?').join(', ')})`,
            ids
          )
        ).map(r => Number(r.id))
      )
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
      const stmt = (this.sqlite as SqliteStore).statement('SELECT 1 FROM devices WHERE id = ?')
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
        await m
          .createQueryBuilder()
          .insert()
          .into(TelemetryData)
          .values(rows.slice(i, i + PG_ROWS_PER_INSERT))
          .updateEntity(false)
          .execute()
      }
    })
  }

  /** SQLite only, when not busy(): the batch in one synchronous transaction; committed when it returns. */
  insertManySync (rows: TelemetryRow[]): void {
    if (this.insertMany === undefined) {
      const sqlite = this.sqlite as SqliteStore
      const stmt = sqlite.statement(INSERT)
      this.insertMany = sqlite.transactional((batch: TelemetryRow[], ids?: number[]) => {
        for (const r of batch) {
          const { lastInsertRowid } = stmt.run(r.deviceId, r.key, r.value, r.valueText, r.unit, r.dataType, r.ts)
          ids?.push(Number(lastInsertRowid))
        }
      })
    }
    const mirror = this.chunks.mirror
    if (!mirror.active) { this.insertMany(rows); return }
    const ids: number[] = []
    this.insertMany(rows, ids)
    // Committed unless nested into a transaction of someone else's (then the close reads the head itself).
    if (!this.busy()) mirror.add(rows, ids)
  }

  /**
   * The last reading (by ts, then id) of every key of a device, in key order: the head's keys found with a skip
   * scan over the (device, key, ts) index, the chunks' from theirs; for a key in both, the newer reading wins.
   */
  async latest (deviceId: number): Promise<ReadingOut[]> {
    const keys = await query<{ key: string }>(this.ds, `
      WITH RECURSIVE k(key) AS (
        SELECT MIN(key) FROM telemetry_data WHERE device_id = ?
        UNION ALL
        SELECT (SELECT MIN(key) FROM telemetry_data WHERE device_id = ? AND key > k.key) FROM k WHERE k.key IS NOT NULL
      ) SELECT key FROM k WHERE key IS NOT NULL
      UNION SELECT DISTINCT key FROM telemetry_chunks WHERE device_id = ?
      ORDER BY key`, [deviceId, deviceId, deviceId])
    const result: ReadingOut[] = []
    for (const { key } of keys) {
      const rows = await query<RawRow>(this.ds, `SELECT id, key, value, value_text, unit, data_type, ts
        FROM telemetry_data WHERE device_id = ? AND key = ? ORDER BY ts DESC, id DESC LIMIT 1`, [deviceId, key])
      let best: RawRow | undefined = rows[0]
      for (const c of await this.chunks.newest(deviceId, key)) {
        await this.chunks.read(c.id, r => {
          const row = chunkRow(key, r)
          if (best === undefined || newerFirst(row, best) < 0) best = row
        })
      }
      if (best === undefined) continue
      const { id: _id, ...reading } = out(best)
      result.push(reading)
    }
    return result
  }

  /**
   * Raw readings, newest first; `cursor` is the `next` of the previous page. The head answers with one query;
   * chunks are read newest first and no further than needed: once the page is full, a chunk whose newest reading
   * is older than the page's last cannot change it.
   */
  async raw (
    deviceId: number,
    q: { key?: string, from: number, to: number, limit: number, cursor?: { ts: number, id: number } }
  ): Promise<RawPage> {
    const where = ['device_id = ?', 'ts >= ?', 'ts < ?']
    const params: unknown[] = [deviceId, q.from, q.to]
    if (q.key !== undefined) { where.push('key = ?'); params.push(q.key) }
    if (q.cursor !== undefined) {
      where.push('(ts < ? OR (ts = ? AND id < ?))')
      params.push(q.cursor.ts, q.cursor.ts, q.cursor.id)
    }
    const want = q.limit + 1
    let rows = await query<RawRow>(this.ds, `SELECT id, key, value, value_text, unit, data_type, ts FROM telemetry_data
      WHERE ${where.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ?`, [...params, want])
    const c = q.cursor
    for (const chunk of await this.chunks.chunks(deviceId, { key: q.key, from: q.from, to: q.to, maxTs: c?.ts })) {
      if (rows.length >= want && Number(rows[want - 1].ts) > chunk.maxTs) break
      await this.chunks.read(chunk.id, r => {
        if (r.ts < q.from || r.ts >= q.to) return
        if (c !== undefined && !(r.ts < c.ts || (r.ts === c.ts && r.id < c.id))) return
        rows.push(chunkRow(chunk.key, r))
      })
      rows.sort(newerFirst)
      if (rows.length > want) rows = rows.slice(0, want)
    }
    const items = rows.slice(0, q.limit).map(out)
    const last = items[items.length - 1]
    return { items, next: rows.length > q.limit ? `${last.ts}:${last.id}` : null }
  }

  /**
   * Buckets of `bucketMs` over [from, to) for one key, from raw rows and per-minute aggregates alike
   * (telemetry-series.ts).
   */
  async series (deviceId: number, key: string, from: number, to: number, bucketMs: number): Promise<SeriesPoint[]> {
    return await seriesOf(this.ds, this, { deviceId, key, from, to, bucketMs })
  }
}

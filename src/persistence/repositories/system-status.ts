import type { DataSource } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { SystemStatus } from '../../../entities/index.js'
import { PreparedStatements } from './sql.js'

// `value` is simple-json, stored as TypeORM stores it (JSON text).
const UPSERT =
  'INSERT INTO system_status ("key", "value", updated_at) VALUES (?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "value" ' +
    '= excluded."value", updated_at = excluded.updated_at'

/** Small persisted key/value state (`system_status`), e.g. key 'emergency'. */
export class SystemStatusRepository {
  private readonly sql: PreparedStatements

  constructor (private readonly ds: DataSource) {
    this.sql = new PreparedStatements(ds)
  }

  /** True on SQLite: `setNow()` can write synchronously (when no other transaction holds the connection). */
  get synchronous (): boolean { return this.sql.native !== undefined }

  async get<T> (key: string): Promise<T | undefined> {
    const row = await this.ds.getRepository(SystemStatus).findOne({ where: { key } })
    return row === null ? undefined : row.value as T
  }

  /** Writes the value, committed (per database.synchronous) when resolved. */
  async set (key: string, value: unknown, now: number): Promise<void> {
    if (this.sql.native !== undefined) {
      await this.sql.whenFree(() => this.sql.get(UPSERT).run(key, JSON.stringify(value), now))
      return
    }
    await this.ds
      .getRepository(SystemStatus)
      .upsert({ key, value, updatedAt: now } as QueryDeepPartialEntity<SystemStatus>, ['key'])
  }

  /**
   * SQLite only: writes the value before returning, or returns false without writing (PostgreSQL, or another
   * transaction holds the connection: see whenFree). With `processDurable`, the commit does not
   * wait for the disk (PRAGMA synchronous = NORMAL for this one statement): it survives a crash or kill of the
   * process at once, and a power cut once the next synchronous=FULL commit on this connection has synced the WAL
   * (WAL frames are synced in order). The emergency stop uses it so the fan-out does not wait on an fsync.
   */
  setNow (key: string, value: unknown, now: number, opts: { processDurable?: boolean } = {}): boolean {
    const db = this.sql.native
    if (db === undefined || db.inTransaction) return false
    const stmt = this.sql.get(UPSERT)
    if (opts.processDurable !== true) {
      stmt.run(key, JSON.stringify(value), now)
      return true
    }
    const level = db.pragma('synchronous', { simple: true }) as number
    db.pragma('synchronous = NORMAL')
    try {
      stmt.run(key, JSON.stringify(value), now)
    } finally {
      db.pragma(`synchronous = ${level}`)
    }
    return true
  }
}

import type { DataSource } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { SystemStatus } from '../../../entities/index.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'

// `value` is simple-json, stored as TypeORM stores it (JSON text).
const UPSERT =
  'INSERT INTO system_status ("key", "value", updated_at) VALUES (?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "value" ' +
    '= excluded."value", updated_at = excluded.updated_at'

/** How `setEarly` went: written before it returned, or to be written with `set()` (now, or after the urgent work). */
export type EarlyWrite = 'written' | 'connection busy' | 'not synchronous'

/** Small persisted key/value state (`system_status`), e.g. key 'emergency'. */
export class SystemStatusRepository {
  private readonly sqlite: SqliteStore | undefined

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  async get<T> (key: string): Promise<T | undefined> {
    const row = await this.ds.getRepository(SystemStatus).findOne({ where: { key } })
    return row === null ? undefined : row.value as T
  }

  /** Writes the value, committed (per database.synchronous) when resolved. */
  async set (key: string, value: unknown, now: number): Promise<void> {
    const sqlite = this.sqlite
    if (sqlite !== undefined) {
      await sqlite.write(() => sqlite.statement(UPSERT).run(key, JSON.stringify(value), now))
      return
    }
    await this.ds
      .getRepository(SystemStatus)
      .upsert({ key, value, updatedAt: now } as QueryDeepPartialEntity<SystemStatus>, ['key'])
  }

  /**
   * Writes the value before returning, without waiting for the disk (SqliteStore.writeNow, processDurable: it
   * survives a kill of the process at once, a power cut once the next full commit has synced): 'written'.
   * Otherwise writes nothing: 'connection busy' (another transaction holds the SQLite connection; the caller
   * writes with `set()` once its urgent work is out) or 'not synchronous' (PostgreSQL: the caller awaits `set()`).
   * The emergency stop uses it so the fan-out waits neither on an fsync nor on someone else's transaction.
   */
  setEarly (key: string, value: unknown, now: number): EarlyWrite {
    const sqlite = this.sqlite
    if (sqlite === undefined) return 'not synchronous'
    const done = sqlite.writeNow(() => sqlite.statement(UPSERT).run(key, JSON.stringify(value), now), {
      processDurable: true
    })
    return done === undefined ? 'connection busy' : 'written'
  }
}

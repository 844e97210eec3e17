import type { DataSource } from 'typeorm'
import type BetterSqlite3 from 'better-sqlite3'

/**
 * The better-sqlite3 handle under TypeORM's driver (one connection: the same one TypeORM uses), or undefined on
 * PostgreSQL. Repositories use it for the hot paths, where a prepared statement in a synchronous transaction is
 * several times cheaper than TypeORM's `insert()` (see scripts/bench/telemetry.ts).
 */
export function nativeSqlite (ds: DataSource): BetterSqlite3.Database | undefined {
  if (ds.options.type !== 'better-sqlite3') return undefined
  return (ds.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection
}

/** Rewrites `?` placeholders to PostgreSQL's `$1, $2, …` (the SQL here never has a literal `?`). */
export function forPostgres (sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

/** Runs portable SQL with `?` placeholders through TypeORM on either engine. */
export async function query<T> (ds: DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const text = ds.options.type === 'postgres' ? forPostgres(sql) : sql
  return await ds.query(text, params) as T[]
}

/** SQLite's SQLITE_CONSTRAINT_UNIQUE (or PRIMARYKEY) or PostgreSQL's 23505, as thrown directly or wrapped by TypeORM. */
export function isUniqueViolation (err: unknown): boolean {
  const e = err as { code?: string, driverError?: { code?: string } }
  const code = e.driverError?.code ?? e.code
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505'
}

/** Runs a write; undefined instead of an error when it would break a unique constraint (the caller answers 409). */
export async function unlessDuplicate<T> (write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write()
  } catch (err) {
    if (isUniqueViolation(err)) return undefined
    throw err
  }
}

/**
 * Prepared statements on the native SQLite handle, cached by their text (TypeORM's own cache is FIFO over 100
 * texts and its update builder inlines numbers, so a burst of updates re-prepares every statement). SQLite only:
 * callers check `native` and take the portable `query()` path on PostgreSQL.
 */
export class PreparedStatements {
  readonly native: BetterSqlite3.Database | undefined
  private readonly cache = new Map<string, BetterSqlite3.Statement<unknown[]>>()

  constructor (ds: DataSource) {
    this.native = nativeSqlite(ds)
  }

  get (sql: string): BetterSqlite3.Statement<unknown[]> {
    let stmt = this.cache.get(sql)
    if (stmt === undefined) {
      stmt = (this.native as BetterSqlite3.Database).prepare<unknown[]>(sql)
      this.cache.set(sql, stmt)
    }
    return stmt
  }

  /** `write` on the native handle once no transaction is open on the connection (see whenFree). SQLite only. */
  async whenFree<T> (write: () => T): Promise<T> {
    return await whenFree(this.native as BetterSqlite3.Database, write)
  }
}

/**
 * Runs `write` (synchronous statements on the native handle) once no transaction is open on the connection: a
 * TypeORM transaction awaits between its statements, and a write issued meanwhile would be nested into it as a
 * savepoint, committed or rolled back with someone else's transaction. The last check and the write run in one
 * synchronous stretch: after any await in between, another caller's BEGIN could have run.
 */
export async function whenFree<T> (db: BetterSqlite3.Database, write: () => T): Promise<T> {
  while (db.inTransaction) await new Promise(resolve => setImmediate(resolve))
  return write()
}

import type { DataSource } from 'typeorm'

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

/**
 * SQLite's SQLITE_CONSTRAINT_UNIQUE (or PRIMARYKEY) or PostgreSQL's 23505, as thrown directly or wrapped by TypeORM.
 */
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

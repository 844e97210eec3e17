import type BetterSqlite3 from 'better-sqlite3'
import type { ConnectionGate } from './gate.js'

export type Statement = BetterSqlite3.Statement<unknown[]>

/**
 * The one owner of native writes on the SQLite connection TypeORM also uses (one connection per process: the
 * same handle). Repositories ask it for prepared statements and for writes; only this file knows the rules:
 * - a write never joins someone else's transaction: a TypeORM transaction awaits between its statements, and a
 *   statement issued meanwhile would be nested into it as a savepoint, committed or rolled back with it. So a
 *   write waits until no transaction is open, and the last check and the write run in one synchronous stretch
 *   (after any await in between, another caller's BEGIN could have run);
 * - a write resolves once committed, as durable as `database.synchronous` makes a commit (FULL: through a power
 *   cut), except `writeNow(.., { processDurable: true })`, which does not wait for the disk;
 * - prepared statements are cached by their text (TypeORM's own cache is FIFO over 100 texts and its update
 *   builder inlines numbers, so a burst of updates would re-prepare every statement).
 */
export class SqliteStore {
  private readonly statements = new Map<string, Statement>()

  constructor (private readonly db: BetterSqlite3.Database, private readonly gate?: ConnectionGate) {}

  /** True when built on this handle (a DataSource initialized again has a new one). */
  on (db: BetterSqlite3.Database): boolean { return this.db === db }

  /** The prepared statement for `sql`, cached; run it only inside `write`, `transaction` or `writeNow` work. */
  statement (sql: string): Statement {
    let stmt = this.statements.get(sql)
    if (stmt === undefined) {
      stmt = this.db.prepare<unknown[]>(sql)
      this.statements.set(sql, stmt)
    }
    return stmt
  }

  /** True while a transaction holds the connection: a write now would be nested into it. */
  busy (): boolean {
    return this.db.inTransaction
  }

  /** Resolves once no transaction holds the connection (it may be taken again after any further await). */
  async whenIdle (): Promise<void> {
    while (this.db.inTransaction) {
      // A TypeORM transaction holds the gate until it ends; anything else is checked again at the next turn.
      await (this.gate?.held === true ? this.gate.released : turn())
    }
  }

  /** `work` (synchronous statements, each committed on its own unless `work` is a `transactional`) once idle. */
  async write<T> (work: () => T): Promise<T> {
    // No await between the last check and the work: the work cannot be nested into another transaction.
    while (this.db.inTransaction) await this.whenIdle()
    return work()
  }

  /** `work` in one transaction of its own once idle; resolved when committed. `immediate`: BEGIN IMMEDIATE. */
  async transaction<T> (work: () => T, opts: { immediate?: boolean } = {}): Promise<T> {
    const tx = this.db.transaction(work)
    return await this.write(() => opts.immediate === true ? tx.immediate() : tx())
  }

  /**
   * A reusable synchronous transaction (built once, for a hot path): call it inside `write` work, or directly
   * when `busy()` is false (then it commits before it returns).
   */
  transactional<A extends unknown[], R> (work: (...args: A) => R): (...args: A) => R {
    return this.db.transaction(work)
  }

  /**
   * Runs `work` now and answers `{ value }`, or answers undefined without running it when a transaction holds
   * the connection. With `processDurable` the commit does not wait for the disk (PRAGMA synchronous = NORMAL for
   * this work only): it survives a crash or kill of the process at once, and a power cut once the next
   * synchronous=FULL commit on this connection has synced the WAL (WAL frames are synced in order).
   */
  writeNow<T> (work: () => T, opts: { processDurable?: boolean } = {}): { value: T } | undefined {
    if (this.db.inTransaction) return undefined
    if (opts.processDurable !== true) return { value: work() }
    const level = this.db.pragma('synchronous', { simple: true }) as number
    this.db.pragma('synchronous = NORMAL')
    try {
      return { value: work() }
    } finally {
      this.db.pragma(`synchronous = ${level}`)
    }
  }

  /**
   * Gives freed pages back: `incremental_vacuum` when the file was created with auto_vacuum=INCREMENTAL
   * (data-source.ts sets it before the first table exists), then a WAL checkpoint that truncates the WAL.
   */
  reclaim (): { autoVacuum: number, freePages: number } {
    const autoVacuum = this.db.pragma('auto_vacuum', { simple: true }) as number
    if (autoVacuum === 2) this.db.pragma('incremental_vacuum')
    this.db.pragma('wal_checkpoint(TRUNCATE)')
    return { autoVacuum, freePages: this.db.pragma('freelist_count', { simple: true }) as number }
  }
}

async function turn (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

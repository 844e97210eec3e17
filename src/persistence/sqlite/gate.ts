import type { DataSource } from 'typeorm'
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel.js'
import type { BetterSqlite3Driver } from 'typeorm/driver/better-sqlite3/BetterSqlite3Driver.js'
import { BetterSqlite3QueryRunner } from 'typeorm/driver/better-sqlite3/BetterSqlite3QueryRunner.js'

/**
 * Who holds the one SQLite connection: a runner for one statement, or for a whole transaction (BEGIN to
 * COMMIT/ROLLBACK, awaits in between). Everyone else waits: a statement cannot slip into someone else's
 * transaction between the check and its execution, as TypeORM's query() awaits before it executes.
 */
export class ConnectionGate {
  private owner: object | undefined
  private ended: Promise<void> = Promise.resolve()
  private end: () => void = () => {}
  /** Prepared statements, shared by every runner: they belong to the connection, not to a runner. */
  readonly statements = new Map<string, unknown>()

  async acquire (runner: object): Promise<void> {
    if (this.owner === runner) return
    // The check and the claim in one synchronous stretch: every waiter wakes when the holder lets go.
    while (this.owner !== undefined) await this.ended
    this.owner = runner
    this.ended = new Promise(resolve => { this.end = resolve })
  }

  get held (): boolean { return this.owner !== undefined }

  /** Settles when the current holder lets go (at once when nobody holds the connection). */
  get released (): Promise<void> { return this.ended }

  release (runner: object): void {
    if (this.owner !== runner) return
    this.owner = undefined
    this.end()
  }
}

/** A runner of its own for each caller, on the shared connection, whose transactions take the connection whole. */
class ExclusiveQueryRunner extends BetterSqlite3QueryRunner {
  /** Statements of this runner under way (TypeORM runs some loads in parallel on one runner). */
  private running = 0

  constructor (driver: BetterSqlite3Driver, private readonly gate: ConnectionGate) {
    super(driver)
    ;(this as unknown as { stmtCache: Map<string, unknown> }).stmtCache = gate.statements
  }

  override async query (query: string, parameters?: unknown[], useStructuredResult?: boolean): Promise<any> {
    await this.gate.acquire(this)
    this.running++
    try {
      return await super.query(query, parameters, useStructuredResult)
    } finally {
      // Held on while a transaction is open or another statement of this runner still runs.
      if (--this.running === 0 && !this.isTransactionActive) this.gate.release(this)
    }
  }

  override async startTransaction (isolationLevel?: IsolationLevel): Promise<void> {
    const outermost = this.transactionDepth === 0
    if (outermost) await this.gate.acquire(this)
    try {
      await super.startTransaction(isolationLevel)
    } catch (err) {
      if (outermost) this.gate.release(this)
      throw err
    }
  }

  override async commitTransaction (): Promise<void> {
    await super.commitTransaction()
    if (this.transactionDepth === 0 && this.running === 0) this.gate.release(this)
  }

  override async rollbackTransaction (): Promise<void> {
    const outermost = this.transactionDepth <= 1
    try {
      await super.rollbackTransaction()
    } finally {
      if (outermost) this.gate.release(this)
    }
  }
}

/**
 * TypeORM's better-sqlite3 driver hands every caller the same QueryRunner on its one connection. Two transactions
 * with awaits inside them then interleave on it: the second BEGIN becomes a savepoint of the first, a rollback
 * undoes the other's writes, a plain statement issued meanwhile commits or rolls back with a transaction that is
 * not its own ("no such savepoint", rows half-written: test/persistence/sqlite-exclusive.test.ts). Here each
 * caller gets a runner of its own, which holds the connection for each statement, and for a whole transaction
 * until it ends: other queries and transactions wait, so each transaction is whole and nothing outside it is lost
 * with it. Writes on the native handle wait for the same thing first (SqliteStore.write in store.ts).
 */
export function exclusiveTransactions (ds: DataSource, gate: ConnectionGate): void {
  const driver = ds.driver as BetterSqlite3Driver
  driver.createQueryRunner = () => new ExclusiveQueryRunner(driver, gate)
}

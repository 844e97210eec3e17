import type { DataSource } from 'typeorm'
import type BetterSqlite3 from 'better-sqlite3'
import { ConnectionGate, exclusiveTransactions } from './gate.js'
import { SqliteStore } from './store.js'

export { SqliteStore, type Statement } from './store.js'

/** What this module keeps on a DataSource it owns: the gate of its connection and the store built on it. */
const OWNED = Symbol('autocore.sqlite')
interface Owned { gate?: ConnectionGate, store?: SqliteStore }
type WithOwned = DataSource & { [OWNED]?: Owned }

/**
 * The better-sqlite3 handle under TypeORM's driver (one connection: the same one TypeORM uses), or undefined on
 * PostgreSQL (or before the DataSource is initialized). For tests and benches that poke the file directly; the
 * gateway's code goes through `sqliteStore`.
 */
export function nativeSqlite (ds: DataSource): BetterSqlite3.Database | undefined {
  if (ds.options.type !== 'better-sqlite3') return undefined
  return (ds.driver as unknown as { databaseConnection?: BetterSqlite3.Database }).databaseConnection
}

/**
 * Makes this module the owner of the DataSource's SQLite connection (openDatabase calls it before initialize):
 * TypeORM's transactions take the connection whole (gate.ts) and native writes wait for them (store.ts).
 * A no-op on PostgreSQL.
 */
export function ownConnection (ds: DataSource): void {
  if (ds.options.type !== 'better-sqlite3') return
  const gate = new ConnectionGate()
  exclusiveTransactions(ds, gate)
  ;(ds as WithOwned)[OWNED] = { gate }
}

/**
 * The connection's one SqliteStore (kept on the DataSource, so every repository built on it shares the same
 * statements and gate), or undefined on PostgreSQL: the caller then takes TypeORM's portable path.
 */
export function sqliteStore (ds: DataSource): SqliteStore | undefined {
  const native = nativeSqlite(ds)
  if (native === undefined) return undefined
  const owned = (ds as WithOwned)[OWNED] ??= {}
  if (owned.store === undefined || !owned.store.on(native)) owned.store = new SqliteStore(native, owned.gate)
  return owned.store
}

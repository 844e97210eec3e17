import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs'
import Sqlite from 'better-sqlite3'
import { systemClock } from '../clock.js'
import { isGatewayError } from '../errors.js'
import { acquireDataLock, type DataLock } from '../persistence/data-lock.js'
import { checkSqliteFile, moveAside, SIDECARS, stamp } from '../persistence/sqlite-files.js'
import { configFor, EXIT, type CliIo } from './io.js'
import { sqliteOnly } from './backup.js'

/** Integrity and shape of the copy about to replace the database; undefined when it is fit. */
function unfit (file: string): string | undefined {
  let check
  try {
    check = checkSqliteFile(file, 'integrity_check')
  } catch (err) {
    return (err as Error).message
  }
  if (!check.ok) return check.reason
  const db = new Sqlite(file, { readonly: true })
  try {
    const row = db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'migrations'")
      .get() as { n: number }
    return row.n === 1 ? undefined : 'not an AutoCore Gateway database (no migrations table)'
  } finally {
    db.close()
  }
}

/**
 * `autocore-gateway restore <file>`: replaces the database with a backup. Refuses while a gateway holds the data
 * directory, checks the copy with `PRAGMA integrity_check` before anything is replaced, and keeps the replaced
 * database as `<name>.replaced-<stamp>`. Pending migrations of an older backup run at the next start.
 */
export async function restore (io: CliIo, source: string, opts: { config?: string }): Promise<number> {
  const config = configFor(io, opts.config)
  const file = sqliteOnly(io, config, 'restore')
  if (file === undefined) return EXIT.failed
  if (!existsSync(source)) {
    io.err(`cannot restore: no file ${source}`)
    return EXIT.failed
  }
  let lock: DataLock
  try {
    lock = acquireDataLock(config.dataDir, 'restore', systemClock.now())
  } catch (err) {
    if (!isGatewayError(err)) throw err
    io.err(
      `cannot restore: ${err.message}; stop the gateway first (sudo systemctl stop autocore-gateway) (${err.code})`
    )
    return EXIT.failed
  }
  const incoming = file + '.restoring'
  try {
    copyFileSync(source, incoming)
    const problem = unfit(incoming)
    if (problem !== undefined) {
      io.err(`cannot restore: ${source} fails its check: ${problem} (GW_ERR_BACKUP_INVALID)`)
      return EXIT.failed
    }
    const replaced = existsSync(file) ? moveAside(file, `.replaced-${stamp(systemClock.now())}`) : undefined
    renameSync(incoming, file)
    io.out(
      `restored ${source} to ${file}` + (replaced !== undefined ? `; the replaced database is kept as ${replaced}` : '')
    )
    return EXIT.ok
  } finally {
    for (const s of ['', ...SIDECARS]) rmSync(incoming + s, { force: true })
    lock.release()
  }
}

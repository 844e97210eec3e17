import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import Sqlite from 'better-sqlite3'
import type { DataSource } from 'typeorm'
import type { Config } from '../config/types.js'

/** The files SQLite keeps beside the database in WAL mode; they move, copy and disappear with it. */
export const SIDECARS = ['-wal', '-shm'] as const

type FileConfig = Pick<Config, 'dataDir' | 'database'>

/** The SQLite database file, or undefined when there is none (PostgreSQL, ':memory:'). */
export function sqliteFile (config: FileConfig): string | undefined {
  if (config.database.type !== 'sqlite' || config.database.file === ':memory:') return undefined
  return join(config.dataDir, config.database.file)
}

export function backupDir (config: Pick<Config, 'dataDir' | 'backup'>): string {
  return config.backup.dir !== '' ? config.backup.dir : join(config.dataDir, 'backups')
}

/** 2026-11-23T15:06:00.123Z → 20261123T150600123Z: sortable, and safe in every file system. */
export function stamp (ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '')
}

function parseStamp (s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(s)
  return m === null ? NaN : Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7])
}

export interface BackupFile { file: string, at: number, bytes: number }

/** Backups of `dbFile` in `dir` (named `<db name>-<stamp>.db`), newest first; partial files are not listed. */
export function listBackups (dir: string, dbFile: string): BackupFile[] {
  const prefix = basename(dbFile, extname(dbFile)) + '-'
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const out: BackupFile[] = []
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.db')) continue
    const at = parseStamp(name.slice(prefix.length, -3))
    if (Number.isNaN(at)) continue
    out.push({ file: join(dir, name), at, bytes: statSync(join(dir, name)).size })
  }
  return out.sort((a, b) => b.at - a.at)
}

export function backupName (dir: string, dbFile: string, at: number): string {
  return join(dir, `${basename(dbFile, extname(dbFile))}-${stamp(at)}.db`)
}

/** Renames the file and its sidecars to `<file><suffix>`; returns the new name of the main file. */
export function moveAside (file: string, suffix: string): string {
  for (const s of ['', ...SIDECARS]) {
    if (existsSync(file + s)) renameSync(file + s, file + suffix + s)
  }
  return file + suffix
}

export type FileCheck = { ok: true } | { ok: false, reason: string }

const CORRUPT = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB'])

/**
 * Opens the file and runs `PRAGMA quick_check` (or the slower `integrity_check`). Corruption is a result; any
 * other failure (no permission, locked) is thrown, because moving a healthy database aside would lose it.
 */
export function checkSqliteFile (file: string, check: 'quick_check' | 'integrity_check'): FileCheck {
  let db: Sqlite.Database | undefined
  try {
    db = new Sqlite(file, { fileMustExist: true })
    const rows = db.pragma(check) as Array<Record<string, string>>
    const messages = rows.map(r => Object.values(r)[0])
    return messages.length === 1 && messages[0] === 'ok'
      ? { ok: true }
      : { ok: false, reason: messages.slice(0, 5).join('; ') }
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    if (CORRUPT.has(code)) return { ok: false, reason: `${code}: ${(err as Error).message}` }
    throw err
  } finally {
    db?.close()
  }
}

/** The better-sqlite3 handle under TypeORM's single connection (the online backup API lives there). */
export function nativeHandle (dataSource: DataSource): Sqlite.Database {
  return (dataSource.driver as unknown as { databaseConnection: Sqlite.Database }).databaseConnection
}

/**
 * An online backup through SQLite's backup API: consistent while the gateway keeps writing (writes through the
 * same connection are copied into the backup as it runs), written to a partial file, verified, then renamed.
 * The copy is switched out of WAL mode so it stays one self-contained file.
 */
export async function backupTo (
  source: Sqlite.Database,
  dest: string,
  opts: { allAtOnce?: boolean } = {}
): Promise<void> {
  mkdirSync(join(dest, '..'), { recursive: true })
  const partial = dest + '.partial'
  rmSync(partial, { force: true })
  try {
    // From another process, a backup restarts whenever the gateway writes between two steps and might never
    // finish under load: copy the rest in one step (a WAL read transaction, so the writer is not blocked).
    await source.backup(partial, opts.allAtOnce === true ? { progress: () => 1_000_000_000 } : undefined)
    const copy = new Sqlite(partial)
    try {
      copy.pragma('journal_mode = DELETE')
    } finally {
      copy.close()
    }
    const check = checkSqliteFile(partial, 'quick_check')
    if (!check.ok) throw new Error(`backup failed its check: ${check.reason}`)
    renameSync(partial, dest)
  } finally {
    for (const s of ['', ...SIDECARS]) rmSync(partial + s, { force: true })
  }
}

/** Opens the database file on its own (the gateway's connection is elsewhere or absent) and backs it up. */
export async function backupFile (file: string, dest: string): Promise<void> {
  const source = new Sqlite(file, { fileMustExist: true })
  try {
    await backupTo(source, dest, { allAtOnce: true })
  } finally {
    source.close()
  }
}

/** Deletes all but the newest `keep` backups; returns the deleted files. */
export function rotateBackups (dir: string, dbFile: string, keep: number): string[] {
  const old = listBackups(dir, dbFile).slice(keep)
  for (const b of old) rmSync(b.file, { force: true })
  return old.map(b => b.file)
}

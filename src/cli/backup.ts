import { existsSync, statSync } from 'node:fs'
import { systemClock } from '../clock.js'
import { backupDir, backupFile, backupName, rotateBackups, sqliteFile } from '../persistence/sqlite-files.js'
import type { Config } from '../config/types.js'
import { configFor, EXIT, type CliIo } from './io.js'

/** The SQLite file backup and restore work on; undefined (after saying why) when there is none. */
export function sqliteOnly (io: CliIo, config: Config, command: string): string | undefined {
  if (config.database.type === 'postgres') {
    io.err(
      `${command} covers SQLite only; with PostgreSQL use pg_dump / pg_restore, e.g. pg_dump -Fc "<database.url>" > ` +
        'autocore.dump (GW_ERR_BACKUP_UNSUPPORTED)'
    )
    return undefined
  }
  const file = sqliteFile(config)
  if (file === undefined) {
    io.err(`${command}: database.file is ':memory:', there is nothing on disk (GW_ERR_BACKUP_UNSUPPORTED)`)
  }
  return file
}

/**
 * `autocore-gateway backup [--out f]`: an online backup (SQLite backup API), safe while the gateway runs.
 * Without --out it goes to backup.dir under the scheduled backups' name and the same rotation applies.
 */
export async function backup (io: CliIo, opts: { config?: string, out?: string }): Promise<number> {
  const config = configFor(io, opts.config)
  const file = sqliteOnly(io, config, 'backup')
  if (file === undefined) return EXIT.failed
  if (!existsSync(file)) {
    io.err(`backup failed: no database at ${file} (GW_ERR_BACKUP_FAILED)`)
    return EXIT.failed
  }
  if (opts.out !== undefined && existsSync(opts.out)) {
    io.err(`backup failed: ${opts.out} already exists (GW_ERR_BACKUP_FAILED)`)
    return EXIT.failed
  }
  const dir = backupDir(config)
  const dest = opts.out ?? backupName(dir, file, systemClock.now())
  try {
    await backupFile(file, dest)
  } catch (err) {
    io.err(`backup failed: ${(err as Error).message} (GW_ERR_BACKUP_FAILED)`)
    return EXIT.failed
  }
  if (opts.out === undefined) rotateBackups(dir, file, config.backup.keep)
  io.out(`backup written: ${dest} (${statSync(dest).size} bytes)`)
  return EXIT.ok
}

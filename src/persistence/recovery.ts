import { copyFileSync, existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import type { Config } from '../config/types.js'
import type { Logger } from '../log.js'
import type { Database } from './database.js'
import { recordSystemEvent } from './repositories/system-events.js'
import { backupDir, checkSqliteFile, listBackups, moveAside, sqliteFile, stamp } from './sqlite-files.js'

/** What recovery did to one store at start; each becomes a critical event_logs row once the database is open. */
export interface Recovery {
  store: 'database' | 'broker-store'
  reason: string
  movedTo: string
  /** The backup the database was restored from; absent when there was none (an empty database is migrated). */
  restoredFrom?: string
}

type RecoveryConfig = Pick<Config, 'dataDir' | 'database' | 'backup'>

/**
 * Runs before the stores open. A vehicle must not be left without its gateway because a power cut damaged a
 * file (Mosquitto #2639: 5–10% of Pi loggers' databases lost that way), so a store that cannot be opened is
 * moved aside as `<name>.corrupt-<stamp>` and replaced — the database by its newest good backup — and the
 * gateway starts. Failures that are not corruption (no permission, locked, disk full) are thrown, not "repaired".
 */
export async function recoverStores (config: RecoveryConfig, log: Logger, now: number): Promise<Recovery[]> {
  const done: Recovery[] = []
  const db = recoverDatabase(config, log, now)
  if (db !== undefined) done.push(db)
  const store = await recoverBrokerStore(config, log, now)
  if (store !== undefined) done.push(store)
  return done
}

function recoverDatabase (config: RecoveryConfig, log: Logger, now: number): Recovery | undefined {
  const file = sqliteFile(config)
  if (file === undefined || !existsSync(file)) return undefined
  const check = checkSqliteFile(file, 'quick_check')
  if (check.ok) return undefined
  const movedTo = moveAside(file, `.corrupt-${stamp(now)}`)
  const recovery: Recovery = { store: 'database', reason: check.reason, movedTo }
  for (const backup of listBackups(backupDir(config), file)) {
    try {
      if (!checkSqliteFile(backup.file, 'quick_check').ok) continue
    } catch {
      continue
    }
    copyFileSync(backup.file, file + '.restoring')
    renameSync(file + '.restoring', file)
    recovery.restoredFrom = backup.file
    break
  }
  log.error({ ...recovery }, 'database corrupt, moved aside')
  return recovery
}

const LEVEL_DAMAGE = new Set(['LEVEL_CORRUPTION', 'LEVEL_IO_ERROR'])

async function recoverBrokerStore (config: RecoveryConfig, log: Logger, now: number): Promise<Recovery | undefined> {
  const dir = join(config.dataDir, 'mqtt')
  if (!existsSync(dir)) return undefined
  const level = new ClassicLevel(dir)
  try {
    await level.open()
    await level.close()
    return undefined
  } catch (err) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    const reason = `${cause?.code ?? ''}: ${cause?.message ?? (err as Error).message}`
    if (!LEVEL_DAMAGE.has(cause?.code ?? '') || /permission denied|no space|lock/i.test(reason)) throw err
    const movedTo = `${dir}.corrupt-${stamp(now)}`
    renameSync(dir, movedTo)
    const recovery: Recovery = { store: 'broker-store', reason, movedTo }
    log.error({ ...recovery }, 'broker store corrupt, moved aside')
    return recovery
  }
}

/** Records each recovery as a critical event (the database is open by now, possibly as the restored copy). */
export async function recordRecoveries (db: Database, recoveries: Recovery[], now: number): Promise<void> {
  for (const r of recoveries) {
    await recordSystemEvent(db.dataSource, now, {
      level: 'critical',
      eventType: `${r.store}.recovered`,
      source: 'recovery',
      action:
        r.store === 'database'
          ? r.restoredFrom !== undefined
            ? 'restored-backup'
            : 'recreated-empty'
          : 'recreated-empty',
      target: r.movedTo,
      payload: { ...r }
    })
  }
}

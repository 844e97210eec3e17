import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { Logger } from '../log.js'
import { BackgroundJob } from './background-job.js'
import {
  backupDir,
  backupName,
  backupTo,
  listBackups,
  nativeHandle,
  rotateBackups,
  sqliteFile,
  type BackupFile
} from '../persistence/sqlite-files.js'

/** Nothing is backed up in the first minute: start-up (and the devices reconnecting) comes first. */
export const SETTLE_MS = 60_000
/** After a failed backup (disk full?), the next attempt; the failure is in the log and event_logs meanwhile. */
export const RETRY_MS = 600_000

/**
 * Scheduled online backups of the SQLite database into backup.dir, rotated to backup.keep. A backup is due
 * backup.intervalMs after the newest one on disk (not after start), so a gateway that is power-cycled with the
 * vehicle several times a day still gets its backups. Nothing to do on PostgreSQL or ':memory:'.
 */
export class BackupService implements Service {
  readonly name = 'backups'
  private readonly job = new BackgroundJob<number>()
  private readonly log: Logger

  constructor (private readonly ctx: Services) {
    this.log = ctx.log.child({ module: 'backups' })
  }

  private get file (): string | undefined {
    return this.ctx.config.backup.enabled ? sqliteFile(this.ctx.config) : undefined
  }

  async start (): Promise<void> {
    if (this.file === undefined) return
    this.schedule(SETTLE_MS)
  }

  /** Arms the next backup: due intervalMs after the newest one on disk, but not sooner than `notBefore` from now. */
  private schedule (notBefore: number): void {
    const newest = listBackups(backupDir(this.ctx.config), this.file as string)[0]
    const now = this.ctx.clock.now()
    const due = Math.max(now + notBefore, newest === undefined ? now : newest.at + this.ctx.config.backup.intervalMs)
    this.job.timer = this.ctx.clock.setTimeout(() => {
      void this.job.join(async () => await this.backupNow().then(() => 0, () => RETRY_MS)).then(notBeforeNext => {
        if (!this.job.stopped) this.schedule(notBeforeNext)
      })
    }, due - now)
  }

  /** Takes one backup now, rotates, and returns it; a failure is logged, recorded in event_logs and rethrown. */
  async backupNow (): Promise<BackupFile> {
    const file = sqliteFile(this.ctx.config)
    if (file === undefined) throw new Error('backups need database.type sqlite with a file')
    const dir = backupDir(this.ctx.config)
    const at = this.ctx.clock.now()
    const dest = backupName(dir, file, at)
    const t0 = performance.now()
    try {
      await backupTo(nativeHandle(this.ctx.db.dataSource), dest)
    } catch (err) {
      this.log.error({ err, dest }, 'backup failed')
      // The one way to record an event: a row (behind the pollers' horizon), webhooks, autocore/events/backup.failed.
      await this.ctx.events.log({
        level: 'error',
        type: 'backup.failed',
        source: 'backups',
        payload: { dest, error: (err as Error).message }
      })
      throw err
    }
    const deleted = rotateBackups(dir, file, this.ctx.config.backup.keep)
    const made = listBackups(dir, file).find(b => b.file === dest) as BackupFile
    this.log.info(
      { file: dest, bytes: made.bytes, ms: Math.round(performance.now() - t0), deleted: deleted.length },
      'backup written'
    )
    return made
  }

  async stop (): Promise<void> {
    // A backup in progress finishes before the database closes (it stops after this service).
    await this.job.stop()
  }
}

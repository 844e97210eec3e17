import { statfsSync, statSync } from 'node:fs'
import Router from '@koa/router'
import type { Services } from '../../services/index.js'
import type { EmergencyRecord } from '../../services/emergency-latch.js'
import type { TelemetryBufferState } from '../../services/telemetry-buffer.js'
import { version } from '../../version.js'
import { backupDir, listBackups, SIDECARS, sqliteFile } from '../../persistence/sqlite-files.js'

export interface HealthReport {
  status: 'ok' | 'down'
  version: string
  uptimeS: number
  broker: { up: boolean, clients: number }
  db: { ok: boolean, type: string }
  // The parts below are informational: they never turn `status` to down; `autocore-gateway health --warn/--crit`
  // puts thresholds on them. A part is absent when it does not apply (no backups on PostgreSQL).
  storage: { dataDir: string, diskFreeBytes: number, diskTotalBytes: number, dbBytes: number | null }
  backup?: { enabled: boolean, dir: string, count: number, lastAt: number | null, ageS: number | null }
  /** Readings accepted and not yet committed, the oldest one's age, and whether ingest is held back. */
  telemetry: Omit<TelemetryBufferState, 'batches'> & { refused: number }
  /** The emergency stop: active or not, and since when, why and from whom while active. */
  emergency: Pick<EmergencyRecord, 'active' | 'since' | 'reason' | 'source'>
}

/** Where the health report reads the emergency state (the control services' latch). */
export type EmergencyState = () => EmergencyRecord

function fileBytes (file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

/** Free space where the data lives, and the database's size (main file plus WAL). */
export function storagePart (ctx: Services): HealthReport['storage'] {
  const fs = statfsSync(ctx.config.dataDir)
  const file = sqliteFile(ctx.config)
  const dbBytes =
    file === undefined ? null : [file, ...SIDECARS.map(s => file + s)].reduce((n, f) => n + fileBytes(f), 0)
  return {
    dataDir: ctx.config.dataDir,
    diskFreeBytes: fs.bavail * fs.bsize,
    diskTotalBytes: fs.blocks * fs.bsize,
    dbBytes
  }
}

/** The newest backup on disk (scheduled or taken with `autocore-gateway backup`). */
export function backupPart (ctx: Services): HealthReport['backup'] {
  const file = sqliteFile(ctx.config)
  if (file === undefined) return undefined
  const dir = backupDir(ctx.config)
  const backups = listBackups(dir, file)
  const lastAt = backups[0]?.at ?? null
  const ageS = lastAt === null ? null : Math.max(0, Math.round((ctx.clock.now() - lastAt) / 1000))
  return { enabled: ctx.config.backup.enabled, dir, count: backups.length, lastAt, ageS }
}

export async function healthReport (ctx: Services, emergency: EmergencyState): Promise<HealthReport> {
  const brokerUp = !ctx.broker.aedes.closed
  const dbOk = await ctx.db.ping()
  return {
    status: brokerUp && dbOk ? 'ok' : 'down',
    version,
    uptimeS: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
    broker: { up: brokerUp, clients: ctx.broker.aedes.connectedClients },
    db: { ok: dbOk, type: ctx.config.database.type },
    storage: storagePart(ctx),
    backup: backupPart(ctx),
    telemetry: telemetryPart(ctx),
    emergency: emergencyPart(emergency())
  }
}

function emergencyPart (r: EmergencyRecord): HealthReport['emergency'] {
  return r.active
    ? { active: true, since: r.since, reason: r.reason, source: r.source }
    : { active: false, since: null, reason: null, source: null }
}

function telemetryPart (ctx: Services): HealthReport['telemetry'] {
  const s = ctx.telemetry.state()
  return {
    buffered: s.buffered,
    lagMs: s.lagMs,
    backpressure: s.backpressure,
    waiting: s.waiting,
    written: s.written,
    failed: s.failed,
    refused: s.refused
  }
}

/** `GET /health`: 200 when every part answers, 503 (same body) when one does not. */
export function healthRoutes (app: Services, emergency: EmergencyState): Router {
  const router = new Router()
  router.get('/health', async ctx => {
    const report = await healthReport(app, emergency)
    ctx.status = report.status === 'ok' ? 200 : 503
    ctx.body = report
  })
  return router
}

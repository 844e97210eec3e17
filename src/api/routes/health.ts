import Router from '@koa/router'
import type { AppContext } from '../../context.js'
import { version } from '../../version.js'

export interface HealthReport {
  status: 'ok' | 'down'
  version: string
  uptimeS: number
  broker: { up: boolean, clients: number }
  db: { ok: boolean, type: string }
  /** Readings accepted and not yet committed, the oldest one's age, and whether ingest is held back. */
  telemetry: { buffered: number, lagMs: number, backpressure: boolean, waiting: number, written: number, failed: number, refused: number }
}

export async function healthReport (ctx: AppContext): Promise<HealthReport> {
  const brokerUp = !ctx.broker.aedes.closed
  const dbOk = await ctx.db.ping()
  return {
    status: brokerUp && dbOk ? 'ok' : 'down',
    version,
    uptimeS: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
    broker: { up: brokerUp, clients: ctx.broker.aedes.connectedClients },
    db: { ok: dbOk, type: ctx.config.database.type },
    telemetry: telemetryPart(ctx)
  }
}

function telemetryPart (ctx: AppContext): HealthReport['telemetry'] {
  const s = ctx.telemetry.state()
  return { buffered: s.buffered, lagMs: s.lagMs, backpressure: s.backpressure, waiting: s.waiting, written: s.written, failed: s.failed, refused: s.refused }
}

/** `GET /health`: 200 when every part answers, 503 (same body) when one does not. */
export function healthRoutes (app: AppContext): Router {
  const router = new Router()
  router.get('/health', async ctx => {
    const report = await healthReport(app)
    ctx.status = report.status === 'ok' ? 200 : 503
    ctx.body = report
  })
  return router
}

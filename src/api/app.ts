import Koa from 'koa'
import type { AppContext } from '../context.js'
import type { Control } from '../services/control.js'
import { errorMiddleware } from './middleware/errors.js'
import { healthRoutes } from './routes/health.js'
import { jsonBody } from './middleware/body.js'
import { mountRoutes } from './mount.js'
import { apiRoutes } from './routes/index.js'
import type { GatewayMetrics } from '../services/metrics.js'
import { httpMetrics } from './middleware/http-metrics.js'
import { metricsRoutes } from './routes/metrics.js'
import { panelStatic } from './panel.js'

/** The Koa application. It never listens by itself: app.ts mounts its callback on the shared HTTP server. */
export function createApi (ctx: AppContext, control: Control, metrics: GatewayMetrics): Koa {
  const app = new Koa()
  app.proxy = false
  // Outside the error middleware, so the request is timed with the status the client gets.
  app.use(httpMetrics(metrics.httpDuration))
  app.use(errorMiddleware(ctx.log.child({ module: 'api' })))
  app.use(jsonBody())
  for (const router of [
    healthRoutes(ctx, () => control.emergency.record),
    metricsRoutes(ctx, metrics.registry),
    mountRoutes(apiRoutes, { app: ctx, control })
  ]) {
    app.use(router.routes())
    app.use(router.allowedMethods({ throw: true }))
  }
  // Last: the browser panel at `/`, for paths no router took.
  app.use(panelStatic({ wsPath: ctx.config.mqtt.wsPath, log: ctx.log.child({ module: 'panel' }) }))
  return app
}

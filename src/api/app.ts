import Koa from 'koa'
import type { Services } from '../services/index.js'
import { errorMiddleware } from './middleware/errors.js'
import { healthRoutes } from './routes/health.js'
import { jsonBody } from './middleware/body.js'
import { mountRoutes } from './mount.js'
import { apiRoutes } from './routes/index.js'
import { httpMetrics } from './middleware/http-metrics.js'
import { metricsRoutes } from './routes/metrics.js'
import { panelStatic } from './panel.js'

/** The Koa application. It never listens by itself: app.ts mounts its callback on the shared HTTP server. */
export function createApi (services: Services): Koa {
  const { log, metrics } = services
  const app = new Koa()
  app.proxy = false
  // Outside the error middleware, so the request is timed with the status the client gets.
  app.use(httpMetrics(metrics.httpDuration))
  app.use(errorMiddleware(log.child({ module: 'api' })))
  app.use(jsonBody())
  const routers = [
    healthRoutes(services, () => services.emergency.record),
    metricsRoutes(services, metrics.registry),
    mountRoutes(apiRoutes, services)
  ]
  for (const router of routers) {
    app.use(router.routes())
    app.use(router.allowedMethods({ throw: true }))
  }
  // Last: the browser panel at `/`, for paths no router took.
  app.use(panelStatic({ wsPath: services.config.mqtt.wsPath, log: log.child({ module: 'panel' }) }))
  return app
}

import Koa from 'koa'
import type { AppContext } from '../context.js'
import { errorMiddleware } from './middleware/errors.js'
import { healthRoutes } from './routes/health.js'
import { telemetryRoutes } from './routes/telemetry.js'
import { jsonBody } from './middleware/body.js'
import { authRoutes } from './routes/auth.js'

/** The Koa application. It never listens by itself: app.ts mounts its callback on the shared HTTP server. */
export function createApi (ctx: AppContext): Koa {
  const app = new Koa()
  app.proxy = false
  app.use(errorMiddleware(ctx.log.child({ module: 'api' })))
  app.use(jsonBody())
  for (const router of [healthRoutes(ctx), authRoutes(ctx), telemetryRoutes(ctx)]) {
    app.use(router.routes())
    app.use(router.allowedMethods())
  }
  return app
}

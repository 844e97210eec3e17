import { createHash, timingSafeEqual } from 'node:crypto'
import Router from '@koa/router'
import type { Registry } from 'prom-client'
import type { Services } from '../../services/index.js'
import { GatewayError } from '../../errors.js'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Compares digests, so neither the token's length nor its first differing byte shows in the timing. */
function tokenMatches (header: string, token: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  return match !== null && timingSafeEqual(digest(match[1]), digest(token))
}

/**
 * `GET /metrics`: the app's registry in the Prometheus text format, outside /api/v1 (scrapers are not users).
 * With `metrics.token` set, `Authorization: Bearer <token>` is required (401 GW_ERR_AUTH_REQUIRED otherwise).
 */
export function metricsRoutes (app: Services, registry: Registry): Router {
  const router = new Router()
  router.get('/metrics', async ctx => {
    const token = app.config.metrics.token
    if (token !== '' && !tokenMatches(ctx.get('authorization'), token)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"')
      throw new GatewayError('GW_ERR_AUTH_REQUIRED', 'an Authorization: Bearer <metrics.token> header is required')
    }
    ctx.type = registry.contentType
    ctx.body = await registry.metrics()
  })
  return router
}

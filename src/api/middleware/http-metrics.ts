import { performance } from 'node:perf_hooks'
import type { Middleware } from 'koa'
import type { Histogram } from 'prom-client'

/** The route label of a request no router matched: raw URLs would make the label set unbounded. */
export const UNMATCHED_ROUTE = 'unmatched'

/**
 * `autocore_http_request_duration_seconds{method,route,status}`. Mounted before the error middleware so it
 * sees the status the client gets; `route` is the matched route's template (`/api/v1/devices/:uuid`), never the URL.
 */
export function httpMetrics (histogram: Histogram<'method' | 'route' | 'status'>): Middleware {
  return async (ctx, next) => {
    const started = performance.now()
    try {
      await next()
    } finally {
      const route = ctx._matchedRoute
      histogram.observe(
        { method: ctx.method, route: typeof route === 'string' ? route : UNMATCHED_ROUTE, status: String(ctx.status) },
        (performance.now() - started) / 1000
      )
    }
  }
}

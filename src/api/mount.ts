import Router from '@koa/router'
import type { Middleware } from 'koa'
import { requireApiRole } from './middleware/api-access.js'
import { byPrecedence, type ApiDeps, type RouteSpec, type Schema } from './route-table.js'
import { partValidator } from './validate.js'

export const API_PREFIX = '/api/v1'

/** A route without a query schema takes no query parameters. */
const NO_QUERY: Schema = { type: 'object', additionalProperties: false, properties: {} }

/**
 * Mounts the route table on one router under /api/v1: role check, then params, query and body validation, then the
 * handler.
 */
export function mountRoutes (specs: readonly RouteSpec[], deps: ApiDeps): Router {
  const router = new Router({ prefix: API_PREFIX })
  for (const spec of [...specs].sort(byPrecedence)) {
    const code = spec.badRequest
    const params = spec.params === undefined ? undefined : partValidator('params', spec.params, code)
    const query = partValidator('query', spec.query ?? NO_QUERY, code)
    const body = spec.body === undefined ? undefined : partValidator('body', spec.body, code)
    const handler: Middleware = async ctx => {
      const p = { ...ctx.params }
      const q = { ...ctx.query }
      params?.(p)
      query(q)
      // A body whose fields are all optional may be left out: an empty request body reads as {}.
      const b =
        ctx.request.body === undefined && spec.body !== undefined && spec.body.required === undefined
          ? {}
          : ctx.request.body
      body?.(b)
      const result = await spec.handler(
        { params: p, query: q, body: b, user: ctx.state.user, ip: ctx.ip, koa: ctx },
        deps
      )
      ctx.status = spec.status ?? 200
      if (ctx.status !== 204) ctx.body = result ?? {}
    }
    const chain: Middleware[] = spec.role === 'public' ? [handler] : [requireApiRole(deps, spec.role), handler]
    router.register(spec.path, [spec.method], chain, { name: spec.id })
  }
  return router
}

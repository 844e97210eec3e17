import type { Middleware } from 'koa'
import { GatewayError, errorRegistry, isGatewayError } from '../../errors.js'
import type { Logger } from '../../log.js'

/**
 * First in the chain: every failure leaves as `{error: {code, message, details?}}`. Only 4xx messages reach
 * the client; a 5xx is logged with its stack and answered with the registry's generic message.
 */
export function errorMiddleware (log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next()
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new GatewayError('GW_ERR_HTTP_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`)
      }
    } catch (err) {
      let gwErr: GatewayError
      if (isGatewayError(err)) {
        gwErr = err
      } else if ([405, 501].includes((err as { status?: number }).status ?? 0)) {
        gwErr = new GatewayError('GW_ERR_HTTP_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`)
      } else {
        gwErr = new GatewayError('GW_ERR_HTTP_INTERNAL')
        log.error({ err, method: ctx.method, path: ctx.path }, 'request failed')
      }
      const clientError = gwErr.status < 500
      if (!clientError && isGatewayError(err)) log.error({ err, method: ctx.method, path: ctx.path }, 'request failed')
      ctx.status = gwErr.status
      ctx.body = {
        error: {
          code: gwErr.code,
          message: clientError ? gwErr.message : errorRegistry[gwErr.code].message,
          ...(clientError && gwErr.details !== undefined ? { details: gwErr.details } : {})
        }
      }
    }
  }
}

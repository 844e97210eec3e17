import type { Middleware } from 'koa'
import { GatewayError } from '../../errors.js'

declare module 'koa' {
  interface Request {
    /** The parsed JSON body (middleware/body.ts); undefined when the request had none. */
    body?: unknown
  }
}

/**
 * Parses `application/json` bodies of POST/PUT/PATCH into ctx.request.body, refusing more than `limit` bytes
 * (413 GW_ERR_HTTP_TOO_LARGE, stops reading) and invalid JSON (400 GW_ERR_HTTP_BAD_JSON).
 */
export function jsonBody (limit = 64 * 1024): Middleware {
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method) || ctx.request.is('application/json') === false) {
      return await next()
    }
    const declared = Number(ctx.get('content-length'))
    if (declared > limit) throw new GatewayError('GW_ERR_HTTP_TOO_LARGE', `request body over ${limit} bytes`)
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > limit) throw new GatewayError('GW_ERR_HTTP_TOO_LARGE', `request body over ${limit} bytes`)
      chunks.push(chunk)
    }
    const text = Buffer.concat(chunks).toString('utf8')
    if (text.trim() !== '') {
      try {
        ctx.request.body = JSON.parse(text)
      } catch {
        throw new GatewayError('GW_ERR_HTTP_BAD_JSON')
      }
    }
    await next()
  }
}

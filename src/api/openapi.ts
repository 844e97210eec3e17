import { errorRegistry, type ErrorCode } from '../errors.js'
import { version } from '../version.js'
import { API_PREFIX } from './mount.js'
import { openApiPath, type RouteSpec, type Schema } from './route-table.js'

const errorBody: Schema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(errorRegistry) },
        message: { type: 'string' },
        details: { description: 'for 400: [{in, field, message}] naming each failing field' }
      }
    }
  }
}

function parameters (where: 'path' | 'query', schema: Schema | undefined): unknown[] {
  const props = (schema?.properties ?? {}) as Record<string, Schema>
  const required = new Set((schema?.required ?? []) as string[])
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s
  }))
}

/** The error codes a route may answer with: its own, plus those its role and schemas imply. */
export function routeErrors (spec: RouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>(spec.errors ?? [])
  if (spec.role !== 'public') codes.add('GW_ERR_AUTH_REQUIRED').add('GW_ERR_AUTH_FORBIDDEN')
  codes.add(spec.badRequest ?? 'GW_ERR_HTTP_VALIDATION')
  if (spec.body !== undefined) codes.add('GW_ERR_HTTP_BAD_JSON').add('GW_ERR_HTTP_TOO_LARGE')
  return [...codes]
}

function responses (spec: RouteSpec): Record<string, unknown> {
  const status = String(spec.status ?? 200)
  const out: Record<string, unknown> = {
    [status]: status === '204'
      ? { description: 'done' }
      : { description: 'success', content: { 'application/json': { schema: spec.response ?? { type: 'object' } } } }
  }
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of routeErrors(spec)) {
    const s = errorRegistry[code].status
    byStatus.set(s, [...(byStatus.get(s) ?? []), code])
  }
  for (const [s, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(s)] = {
      description: codes.join(', '),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
    }
  }
  return out
}

/** The OpenAPI 3.1 document of the route table: the same schemas that validate the requests. */
export function openApiDocument (specs: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const spec of specs) {
    const path = API_PREFIX + openApiPath(spec.path)
    paths[path] ??= {}
    const params = [...parameters('path', spec.params), ...parameters('query', spec.query)]
    paths[path][spec.method.toLowerCase()] = {
      operationId: spec.id,
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.role === 'public' ? { security: [] } : { description: `Role: ${spec.role} or above.` }),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(spec.body !== undefined
        ? { requestBody: { required: true, content: { 'application/json': { schema: spec.body } } } }
        : {}),
      responses: responses(spec)
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'AutoCore Gateway API',
      version,
      description: 'Errors are {error: {code, message, details?}}; codes are listed in the README.'
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'the token from POST /api/v1/auth/login'
        }
      },
      schemas: { Error: errorBody }
    }
  }
}

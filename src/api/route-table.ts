import type Koa from 'koa'
import type { ErrorCode } from '../errors.js'
import type { Services } from '../services/index.js'
import type { ApiRole } from './middleware/api-access.js'
import { idParams } from './schemas.js'

/**
 * A JSON Schema (the subset both ajv and OpenAPI 3.1 read: draft 2020-12 keywords, `type: [.., 'null']` for nullables).
 */
export type Schema = Record<string, unknown>

/** What every route handler is given: the one services bag (the same services MQTT uses). */
export type ApiDeps = Services

/** The validated request. `user` is set on every route but the public ones. */
export interface ApiRequest<P, Q, B> {
  readonly params: P
  readonly query: Q
  readonly body: B
  readonly user: { username: string, role: ApiRole }
  readonly ip: string
  /** The Koa context, for the rare route that sets headers. */
  readonly koa: Koa.Context
}

/**
 * One row of the API's route table (src/api/routes/index.ts). The same row mounts the route, validates its
 * params/query/body, enforces its role, documents it in the OpenAPI document and drives the generic route test,
 * so none of those can drift from the others.
 */
export interface RouteSpec<P = any, Q = any, B = any> {
  /** Unique and stable: `<resource>.<action>`, e.g. `devices.create`. */
  readonly id: string
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Under /api/v1, Koa style: `/devices/:uuid`. */
  readonly path: string
  /** The least role allowed (SPEC §2: viewer reads, operator controls, admin manages); `public` needs no token. */
  readonly role: ApiRole | 'public'
  readonly summary: string
  /** The OpenAPI tag: the resource. */
  readonly tag: string
  /** An object schema with one property per `:param` (strings, coerced like the query). */
  readonly params?: Schema
  /** An object schema; values are coerced from strings; `additionalProperties: false` refuses unknown parameters. */
  readonly query?: Schema
  /** An object schema with `additionalProperties: false`. */
  readonly body?: Schema
  /** The success body's schema (documentation only). */
  readonly response?: Schema
  /** The success status (default 200; 204 sends no body). */
  readonly status?: 200 | 201 | 202 | 204
  /** Error codes the handler itself may answer with (the auth and validation ones are implied). */
  readonly errors?: readonly ErrorCode[]
  /** The code for a request failing its schemas (default GW_ERR_HTTP_VALIDATION). */
  readonly badRequest?: ErrorCode
  readonly handler: (req: ApiRequest<P, Q, B>, deps: ApiDeps) => Promise<unknown>
}

/** Types a route's handler by its params, query and body (the schemas are what guarantee them at run time). */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined> (
  spec: RouteSpec<P, Q, B>
): RouteSpec {
  return spec
}

/**
 * The `GET <resource>/:id` route: viewers read one row by its id. `load` finds it (or throws its 404), `view` is the
 * answer.
 */
export function getById<T> (
  spec: Pick<RouteSpec, 'id' | 'path' | 'tag' | 'summary' | 'response' | 'errors'> & {
    load: (deps: ApiDeps, id: number) => Promise<T>
    view: (row: T) => unknown
  }
): RouteSpec {
  const { load, view, ...rest } = spec
  return route<{ id: number }>({
    ...rest,
    method: 'GET',
    role: 'viewer',
    params: idParams('id'),
    handler: async (req, deps) => view(await load(deps, req.params.id))
  })
}

/** What every create route is: an admin's POST, answered 201 with what it made. */
export const creates = { method: 'POST', role: 'admin', status: 201 } as const

/** `limit`/`offset` for list routes, merged into their query schema. */
export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 100, description: 'page size' },
  offset: { type: 'integer', minimum: 0, default: 0, description: 'items to skip' }
} as const

export interface Page { limit: number, offset: number }

/** The shape of every list answer. */
export function pageOf (items: Schema): Schema {
  return {
    type: 'object',
    required: ['items', 'total', 'limit', 'offset'],
    properties: {
      items: { type: 'array', items },
      total: { type: 'integer' },
      limit: { type: 'integer' },
      offset: { type: 'integer' }
    }
  }
}

/** Slices an in-memory list into the list answer. */
export function paginate<T> (
  all: readonly T[],
  page: Page
): { items: T[], total: number, limit: number, offset: number } {
  return {
    items: all.slice(page.offset, page.offset + page.limit),
    total: all.length,
    limit: page.limit,
    offset: page.offset
  }
}

/** `/devices/:uuid` → `/devices/{uuid}` (OpenAPI). */
export function openApiPath (path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

/** Static segments before parameters, so `/devices/changes` is matched before `/devices/:uuid`. */
export function byPrecedence (a: RouteSpec, b: RouteSpec): number {
  const sa = a.path.split('/')
  const sb = b.path.split('/')
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const pa = sa[i].startsWith(':')
    const pb = sb[i].startsWith(':')
    if (pa !== pb) return pa ? 1 : -1
  }
  return 0
}

/**
 * An admin's change through the API, in the event log: `type` is `<resource>_<action>` (e.g. `device_deleted`), the
 * action is its part after the resource, the target the thing changed, the user the one who asked.
 */
export async function auditChange (
  deps: ApiDeps,
  req: ApiRequest<unknown, unknown, unknown>,
  type: string,
  target: string,
  payload?: Record<string, unknown>
): Promise<void> {
  await deps.events.log({
    level: 'info',
    type,
    source: 'api',
    action: type.replace(/^[a-z]+_/, ''),
    target,
    username: req.user.username,
    payload
  })
}

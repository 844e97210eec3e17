import type { Test } from 'tap'
import type { UserRole } from '../../../src/auth/principal.js'
import type { RunningApp } from '../../helpers/app.js'
import { createUser, login } from '../../helpers/devices.js'

export interface Res { status: number, body: any }
export interface Req {
  params?: Record<string, string | number>
  query?: Record<string, string | number | boolean>
  body?: unknown
}

/** One running app per resource, with a token per role and a fetch wrapper. */
export interface Harness {
  readonly app: RunningApp
  /** The resource's test: what a case opens (an MQTT client, a simulated board) is closed at its teardown. */
  readonly t: Test
  token: (role: UserRole) => Promise<string>
  call: (method: string, path: string, opts?: { token?: string, query?: Req['query'], body?: unknown }) => Promise<Res>
}

/**
 * How the generic route test (test/api/routes.test.ts) exercises one route. `happy` prepares what the route
 * needs and returns a valid request; `notFound` a well-formed request for something that does not exist (every
 * route with a path parameter needs one, or `noNotFound` saying why not); `conflict` one that must answer 409
 * (every route declaring a 409 error code needs one).
 */
export interface RouteCase {
  happy: (h: Harness) => Promise<Req & { check?: (t: Test, res: Res) => unknown }>
  notFound?: (h: Harness) => Promise<Req>
  noNotFound?: string
  conflict?: (h: Harness) => Promise<Req>
}

export type Cases = Record<string, RouteCase>

export function harness (app: RunningApp, t: Test): Harness {
  const tokens = new Map<UserRole, string>()
  return {
    app,
    t,
    token: async role => {
      let token = tokens.get(role)
      if (token === undefined) {
        const u = await createUser(app, { role })
        token = await login(app, u.username, u.password)
        tokens.set(role, token)
      }
      return token
    },
    call: async (method, path, opts = {}) => {
      const url = new URL(`${app.httpUrl}/api/v1${path}`)
      for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, String(v))
      const headers: Record<string, string> = {}
      if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
      if (opts.body !== undefined) headers['content-type'] = 'application/json'
      const res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body)
      })
      const text = await res.text()
      // A download (a backup file) is not JSON: its text is the body.
      const json = res.headers.get('content-type')?.includes('json') ?? text !== ''
      return { status: res.status, body: text === '' ? undefined : json ? JSON.parse(text) : text }
    }
  }
}

/** Fills `:name` in a Koa path. */
export function fillPath (path: string, params: Req['params'] = {}): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const v = params[name]
    if (v === undefined) throw new Error(`no value for :${name} in ${path}`)
    return encodeURIComponent(String(v))
  })
}

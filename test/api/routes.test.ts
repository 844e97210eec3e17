import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv } from 'ajv'
import t, { type Test } from 'tap'
import type { UserRole } from '../../src/auth/principal.js'
import { errorRegistry, type ErrorCode } from '../../src/errors.js'
import { routeErrors } from '../../src/api/openapi.js'
import { openApiPath, type RouteSpec } from '../../src/api/route-table.js'
import { apiRoutes } from '../../src/api/routes/index.js'
import { startApp } from '../helpers/app.js'
import { cases } from './cases/index.js'
import { fillPath, harness, type Harness, type Req, type Res } from './cases/harness.js'

// Every route of the table, driven by its own schemas and role: 401 without a token, 403 a role below, 400
// naming an unknown field, the happy path (its answer checked against the documented response schema), 404
// and 409 where they belong. A route without a case fails here, so none is forgotten.

const BELOW: Record<string, UserRole | undefined> = { viewer: undefined, operator: 'viewer', admin: 'operator' }
const responseAjv = new Ajv({ strict: false, validateFormats: false, allowUnionTypes: true })

t.test('every route has a case and every case a route', async t => {
  t.same(Object.keys(cases).sort(), apiRoutes.map(r => r.id).sort())
  t.equal(new Set(apiRoutes.map(r => r.id)).size, apiRoutes.length, 'route ids are unique')
  const keys = apiRoutes.map(r => `${r.method} ${r.path}`)
  t.equal(new Set(keys).size, keys.length, 'no method+path twice')
})

t.test('every body schema refuses unknown fields; every list pages', async t => {
  for (const r of apiRoutes) {
    if (r.body !== undefined) t.equal(r.body.additionalProperties, false, `${r.id} body`)
    if (r.query !== undefined) t.equal(r.query.additionalProperties, false, `${r.id} query`)
    const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(m => m[1]).sort()
    t.same(Object.keys((r.params?.properties ?? {}) as object).sort(), params, `${r.id} declares its path parameters`)
  }
})

async function send (h: Harness, r: RouteSpec, req: Req, token?: string): Promise<Res> {
  return await h.call(r.method, fillPath(r.path, req.params), { token, query: req.query, body: req.body })
}

function expectError (t: Test, res: Res, status: number, codes: readonly ErrorCode[], what: string): void {
  t.equal(res.status, status, `${what}: status`)
  t.ok(codes.includes(res.body?.error?.code), `${what}: code ${String(res.body?.error?.code)} in [${codes.join(', ')}]`)
  t.type(res.body?.error?.message, 'string', `${what}: message`)
}

async function exercise (t: Test, h: Harness, r: RouteSpec): Promise<void> {
  const c = cases[r.id]
  const own = routeErrors(r)
  const minRole = r.role === 'public' ? 'viewer' : r.role
  const token = await h.token(minRole)
  const happy = await c.happy(h)

  if (r.role !== 'public') {
    expectError(t, await send(h, r, happy), 401, ['GW_ERR_AUTH_REQUIRED'], 'no token')
    const below = BELOW[r.role]
    if (below !== undefined) {
      expectError(t, await send(h, r, happy, await h.token(below)), 403, ['GW_ERR_AUTH_FORBIDDEN'], `as ${below}`)
    }
  }

  const badQuery = await send(h, r, { ...happy, query: { ...happy.query, bogus: 1 } }, token)
  expectError(t, badQuery, 400, [r.badRequest ?? 'GW_ERR_HTTP_VALIDATION'], 'unknown query parameter')
  t.match(badQuery.body.error.details, [{ in: 'query', field: 'bogus' }], 'the 400 names the parameter')
  if (r.body !== undefined) {
    const badBody = await send(h, r, { ...happy, body: { ...(happy.body as object), bogus: 1 } }, token)
    expectError(t, badBody, 400, [r.badRequest ?? 'GW_ERR_HTTP_VALIDATION'], 'unknown body field')
    t.match(badBody.body.error.details, [{ in: 'body', field: '/bogus' }], 'the 400 names the field')
  }

  const res = await send(h, r, happy, token)
  t.equal(res.status, r.status ?? 200, `happy path status (${JSON.stringify(res.body)?.slice(0, 300)})`)
  if (r.response !== undefined && res.status !== 204) {
    const validate = responseAjv.compile(r.response)
    t.ok(validate(res.body), `the answer matches the documented schema ${JSON.stringify(validate.errors)}`)
  }
  await happy.check?.(t, res)

  if (r.path.includes(':') && c.noNotFound === undefined) {
    t.ok(c.notFound, 'a route with a path parameter has a notFound case')
    if (c.notFound !== undefined) {
      const nf = await send(h, r, await c.notFound(h), token)
      expectError(t, nf, 404, own.filter(code => errorRegistry[code].status === 404), 'not found')
    }
  }
  const conflicts = own.filter(code => errorRegistry[code].status === 409)
  if (conflicts.length > 0) {
    t.ok(c.conflict, `a route declaring ${conflicts.join(', ')} has a conflict case`)
    if (c.conflict !== undefined) {
      expectError(t, await send(h, r, await c.conflict(h), token), 409, conflicts, 'conflict')
    }
  }
}

const byTag = new Map<string, RouteSpec[]>()
for (const r of apiRoutes) byTag.set(r.tag, [...(byTag.get(r.tag) ?? []), r])

for (const [tag, routes] of byTag) {
  t.test(`routes: ${tag}`, async t => {
    const h = harness(await startApp(t), t)
    for (const r of routes) {
      if (cases[r.id] === undefined) continue
      await t.test(`${r.method} ${r.path} (${r.id}, ${r.role})`, async t => { await exercise(t, h, r) })
    }
  })
}

t.test('the OpenAPI document is valid OpenAPI 3.1 and lists every route', async t => {
  const h = harness(await startApp(t), t)
  const res = await h.call('GET', '/openapi.json')
  t.equal(res.status, 200)
  const validator = new Validator()
  const result = await validator.validate(res.body)
  t.ok(result.valid, `valid: ${JSON.stringify(result.errors)?.slice(0, 2000)}`)
  t.equal(validator.version, '3.1')
  for (const r of apiRoutes) {
    const op = res.body.paths[`/api/v1${openApiPath(r.path)}`]?.[r.method.toLowerCase()]
    t.equal(op?.operationId, r.id, `${r.method} ${r.path} is documented`)
  }
})

t.test('a method a route does not take is 405; an unknown route 404; both in the error shape', async t => {
  const h = harness(await startApp(t), t)
  const res = await h.call('DELETE', '/auth/login')
  t.match(res, {
    status: 405,
    body: { error: { code: 'GW_ERR_HTTP_METHOD_NOT_ALLOWED', message: 'DELETE is not allowed on /api/v1/auth/login' } }
  })
  t.match(await h.call('GET', '/nothing-here'), { status: 404, body: { error: { code: 'GW_ERR_HTTP_NOT_FOUND' } } })
})

import Koa from 'koa'
import t from 'tap'
import { requireApiRole } from '../../src/api/middleware/api-access.js'
import { errorMiddleware } from '../../src/api/middleware/errors.js'
import { startApp } from '../helpers/app.js'
import { createUser, login, provisionDevice } from '../helpers/devices.js'

t.test('/api/v1 routes need a valid token of a current, enabled user', async t => {
  const app = await startApp(t)
  const { uuid } = await provisionDevice(app)
  const url = `${app.httpUrl}/api/v1/telemetry/${uuid}/latest`
  const call = async (authorization?: string): Promise<{ status: number, body: any }> => {
    const res = await fetch(url, authorization === undefined ? {} : { headers: { authorization } })
    return { status: res.status, body: await res.json() }
  }
  t.match(
    await call(),
    { status: 401, body: { error: { code: 'GW_ERR_AUTH_REQUIRED', message: /Bearer/ } } },
    'no header'
  )
  t.match(await call('Bearer not-a-jwt'), {
    status: 401,
    body: { error: { code: 'GW_ERR_AUTH_REQUIRED', message: 'invalid token' } }
  })
  t.match(await call('Basic dXNlcjpwYXNz'), { status: 401 }, 'not a bearer token')

  const viewer = await createUser(app, { role: 'viewer' })
  const token = await login(app, viewer.username, viewer.password)
  t.match(await call(`Bearer ${token}`), { status: 200, body: { device: uuid } })

  await app.gateway.services.repos.users.update(viewer.username, { enabled: false }, Date.now())
  t.match(
    await call(`Bearer ${token}`),
    { status: 401, body: { error: { message: 'unknown or disabled user' } } },
    'disabling takes effect at once'
  )
})

t.test('a role below the route\'s is 403; the acting user is in ctx.state', async t => {
  const app = await startApp(t)
  const koa = new Koa()
  koa.use(errorMiddleware(app.gateway.services.log))
  koa.use(requireApiRole(app.gateway.services, 'operator'))
  koa.use(ctx => { ctx.body = ctx.state.user })
  const server = koa.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  await new Promise(resolve => server.once('listening', resolve))
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  const as = async (role: 'viewer' | 'operator' | 'admin'): Promise<{ status: number, body: any }> => {
    const u = await createUser(app, { role })
    const res = await fetch(base, { headers: { authorization: `Bearer ${await login(app, u.username, u.password)}` } })
    return { status: res.status, body: await res.json() }
  }
  t.match(await as('viewer'), {
    status: 403,
    body: { error: { code: 'GW_ERR_AUTH_FORBIDDEN', message: 'this needs the operator role' } }
  })
  t.match(await as('operator'), { status: 200, body: { role: 'operator' } })
  t.match(await as('admin'), { status: 200, body: { role: 'admin' } })
})

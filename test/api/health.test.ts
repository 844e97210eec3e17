import t from 'tap'
import { startApp } from '../helpers/app.js'

t.test('GET /health reports every part', async t => {
  const app = await startApp(t)
  const res = await fetch(`${app.httpUrl}/health`)
  t.equal(res.status, 200)
  const body = await res.json()
  t.match(body, { status: 'ok', version: String, uptimeS: Number, broker: { up: true, clients: Number }, db: { ok: true, type: 'sqlite' } })
})

t.test('GET /health is 503 when the database is down', async t => {
  const app = await startApp(t)
  await app.gateway.ctx.db.dataSource.destroy()
  const res = await fetch(`${app.httpUrl}/health`)
  t.equal(res.status, 503)
  t.match(await res.json(), { status: 'down', db: { ok: false } })
})

t.test('unknown routes get the error shape, never a stack', async t => {
  const app = await startApp(t)
  const res = await fetch(`${app.httpUrl}/nope`)
  t.equal(res.status, 404)
  t.same(await res.json(), { error: { code: 'GW_ERR_HTTP_NOT_FOUND', message: 'no route for GET /nope' } })
})

import t from 'tap'
import { startApp } from '../helpers/app.js'

t.test('GET /health reports every part', async t => {
  const app = await startApp(t)
  const res = await fetch(`${app.httpUrl}/health`)
  t.equal(res.status, 200)
  const body = await res.json()
  t.match(body, {
    status: 'ok',
    version: String,
    uptimeS: Number,
    broker: { up: true, clients: Number },
    db: { ok: true, type: 'sqlite' }
  })
  t.match(body.storage, { dataDir: app.config.dataDir, diskFreeBytes: Number, diskTotalBytes: Number })
  t.ok(
    body.storage.dbBytes > 0 &&
      body.storage.diskFreeBytes > 0 &&
      body.storage.diskFreeBytes <= body.storage.diskTotalBytes
  )
  t.same(body.backup, { enabled: true, dir: `${app.config.dataDir}/backups`, count: 0, lastAt: null, ageS: null })
  t.match(body.telemetry, { buffered: 0, lagMs: 0, backpressure: false })
  t.same(body.emergency, { active: false, since: null, reason: null, source: null })
  await app.gateway.services.emergency.trigger({
    reason: 'driver pressed the button',
    actor: { kind: 'user', username: 'op', role: 'operator' }
  })
  const during = await (await fetch(`${app.httpUrl}/health`)).json()
  t.match(
    during,
    { status: 'ok', emergency: { active: true, since: String, reason: 'driver pressed the button', source: String } },
    'an emergency stop is reported, and is not "down"'
  )
})

t.test('GET /health has no backup part (and no db size) without a SQLite file', async t => {
  const app = await startApp(t, { config: { database: { file: ':memory:' } } })
  const body = await (await fetch(`${app.httpUrl}/health`)).json()
  t.equal(body.backup, undefined)
  t.equal(body.storage.dbBytes, null)
})

t.test('GET /health is 503 when the database is down', async t => {
  const app = await startApp(t)
  await app.gateway.services.db.dataSource.destroy()
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

import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { createUser } from '../helpers/devices.js'
import { connect } from '../helpers/mqtt.js'

async function post (
  url: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' }
): Promise<{ status: number, body: any }> {
  const res = await fetch(url, { method: 'POST', headers, body })
  return { status: res.status, body: await res.json() }
}

t.test('first start creates admin with a password in a 0600 file; login gives a JWT that is the MQTT ' +
  'password', async t => {
  const app = await startApp(t)
  const file = join(app.config.dataDir, 'initial-admin-password')
  t.equal(statSync(file).mode & 0o777, 0o600)
  const password = readFileSync(file, 'utf8').trim()
  const line = app.logs.find(l => l.msg === 'initial admin user created; its password is in the file')
  t.match(line, { file, username: 'admin' })
  t.notOk(app.logs.some(l => JSON.stringify(l).includes(password)), 'the password is never logged')
  t.equal(statSync(join(app.config.dataDir, 'jwt-secret')).mode & 0o777, 0o600)

  const res = await post(`${app.httpUrl}/api/v1/auth/login`, JSON.stringify({ username: 'admin', password }))
  t.equal(res.status, 200)
  t.match(res.body, { token: /^eyJ/, expiresAt: /^\d{4}-/, user: { username: 'admin', role: 'admin' } })
  t.ok(Date.parse(res.body.expiresAt) - Date.now() > 11 * 3600_000, 'auth.jwtExpiresInS (12 h)')
  const c = await connect(t, app.wsUrl, { username: 'admin', password: res.body.token })
  t.equal(c.connected, true)
  t.not((await app.gateway.services.repos.users.byUsername('admin'))?.lastLoginAt, null)

  await app.stop()
  const again = await startApp(t, { dataDir: app.config.dataDir })
  t.equal(readFileSync(file, 'utf8').trim(), password, 'not recreated on the next start')
  t.notOk(again.logs.some(l => l.msg === 'initial admin user created; its password is in the file'))
})

t.test('login errors: bad credentials, disabled user, schema, bad JSON, too large, throttled', async t => {
  const app = await startApp(t, { config: { auth: { maxFailedAttempts: 3 } } })
  const url = `${app.httpUrl}/api/v1/auth/login`
  const u = await createUser(app, { role: 'viewer' })
  const off = await createUser(app, { role: 'operator' })
  await app.gateway.services.repos.users.update(off.username, { enabled: false }, Date.now())

  t.match(await post(url, JSON.stringify({ username: u.username })), {
    status: 400,
    body: {
      error: {
        code: 'GW_ERR_HTTP_VALIDATION',
        message: 'invalid body: /password is required',
        details: [{ in: 'body', field: '/password', message: 'is required' }]
      }
    }
  })
  t.match(await post(url, '{"username":'), { status: 400, body: { error: { code: 'GW_ERR_HTTP_BAD_JSON' } } })
  t.match(await post(url, JSON.stringify({ username: u.username, password: 'x'.repeat(70_000) })), {
    status: 413,
    body: { error: { code: 'GW_ERR_HTTP_TOO_LARGE' } }
  })
  t.match(
    await post(url, JSON.stringify({ username: off.username, password: off.password })),
    { status: 401, body: { error: { code: 'GW_ERR_AUTH_BAD_CREDENTIALS' } } },
    'disabled user'
  )
  t.match(await post(url, JSON.stringify({ username: u.username, password: 'wrong' })), {
    status: 401,
    body: { error: { code: 'GW_ERR_AUTH_BAD_CREDENTIALS' } }
  })
  t.match(await post(url, JSON.stringify({ username: 'nobody', password: 'wrong' })), { status: 401 })
  t.match(
    await post(url, JSON.stringify({ username: u.username, password: u.password })),
    { status: 429, body: { error: { code: 'GW_ERR_AUTH_THROTTLED' } } },
    'third failure from this address started a penalty'
  )
  const rows = await app.gateway.services.repos.events.recent({ eventType: 'auth_failed' })
  t.same(rows.map(r => r.target).reverse(), [off.username, u.username, 'nobody'])
  t.equal(rows[0].source, 'api')
})

t.test('a parallel burst of wrong logins is hashed only until the penalty starts', async t => {
  const app = await startApp(t, { config: { auth: { maxFailedAttempts: 3 } } })
  const u = await createUser(app, { role: 'viewer' })
  const url = `${app.httpUrl}/api/v1/auth/login`
  const statuses = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
    (await post(url, JSON.stringify({ username: u.username, password: `guess-${i}` }))).status))
  const checked = statuses.filter(s => s === 401).length
  // At most maxFailedAttempts + (4 concurrent checks per address - 1) hashes before the penalty refuses the rest.
  t.ok(checked >= 3 && checked <= 6, `${checked} checked`)
  t.equal(statuses.filter(s => s === 429).length, 20 - checked)
})

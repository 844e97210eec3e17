import t from 'tap'
import { startApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness } from './cases/harness.js'

// What the generic route test cannot see: the secret's one showing, URL checks, and what PATCH does to the breaker.

t.test('a generated secret is answered once; a given one never; neither is listed or read back', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const token = await h.token('admin')
  const generated = await h.call('POST', '/webhooks', { token, body: { url: 'http://127.0.0.1:9/a', events: ['*'], enabled: false } })
  t.equal(generated.status, 201)
  t.match(generated.body.secret, /^[0-9a-f]{64}$/)
  const given = await h.call('POST', '/webhooks', { token, body: { url: 'https://example.test/b', events: ['x'], secret: 'sixteen-chars-or-more', enabled: false } })
  t.equal(given.status, 201)
  t.notOk('secret' in given.body, 'a secret the admin chose is not echoed')
  t.equal(
    (await app.gateway.services.repos.webhooks.get(given.body.id))?.secret,
    'sixteen-chars-or-more',
    'it is stored, for signing'
  )
  t.equal((await app.gateway.services.repos.webhooks.get(generated.body.id))?.secret, generated.body.secret)

  const texts = [
    JSON.stringify((await h.call('GET', '/webhooks', { token })).body),
    JSON.stringify((await h.call('GET', `/webhooks/${generated.body.id as number}`, { token })).body),
    JSON.stringify(
      (await h.call('PATCH', `/webhooks/${generated.body.id as number}`, { token, body: { events: ['y'] } })).body
    )
  ]
  for (const text of texts) {
    t.notOk(text.includes(generated.body.secret), 'the generated secret is not shown again')
    t.notOk(text.includes('sixteen-chars-or-more'))
    t.notOk(text.includes('"secret"'))
  }
  t.notOk(JSON.stringify(app.logs).includes(generated.body.secret), 'nor logged')
})

t.test('the URL must be http(s); the 400 names /url', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const token = await h.token('admin')
  for (const url of ['ftp://example.test/x', 'file:///etc/passwd', 'https://', 'http://exa mple.test/']) {
    const res = await h.call('POST', '/webhooks', { token, body: { url, events: ['*'] } })
    t.equal(res.status, 400, url)
    t.match(res.body.error, { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'body', field: '/url' }] }, url)
  }
  const hook = await h.call('POST', '/webhooks', { token, body: { url: 'http://127.0.0.1:9/x', events: ['*'], enabled: false } })
  const patched = await h.call('PATCH', `/webhooks/${hook.body.id as number}`, {
    token,
    body: { url: 'gopher://x.test/' }
  })
  t.match(patched, { status: 400, body: { error: { details: [{ field: '/url' }] } } })
  t.match(
    await h.call('PATCH', `/webhooks/${hook.body.id as number}`, { token, body: {} }),
    { status: 400 },
    'a PATCH changes something'
  )
  t.match(await h.call('POST', '/webhooks', { token, body: { url: 'http://127.0.0.1:9/x', events: [] } }), { status: 400, body: { error: { details: [{ field: '/events' }] } } })
  t.match(await h.call('POST', '/webhooks', { token, body: { url: 'http://127.0.0.1:9/x', events: ['*'], minLevel: 'loud' } }), { status: 400, body: { error: { details: [{ field: '/minLevel' }] } } })
})

t.test('a new URL or re-enabling closes an open circuit; other changes keep it', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const h = harness(app)
  const token = await h.token('admin')
  const ctx = app.gateway.services
  const { id } = await ctx.repos.webhooks.create({ url: 'http://127.0.0.1:9/x', secret: 'k'.repeat(16), events: ['*'], minLevel: 'info', enabled: false }, clock.now())
  const open = async (): Promise<void> => {
    await ctx.db.dataSource.query('UPDATE webhooks SET failure_count = 7, circuit_open_until = ? WHERE id = ?', [
      clock.now() + 60_000,
      id
    ])
  }

  await open()
  t.match((await h.call('GET', `/webhooks/${id}`, { token })).body, {
    circuit: 'open',
    failureCount: 7,
    circuitOpenUntil: new Date(clock.now() + 60_000).toISOString()
  })
  t.match((await h.call('PATCH', `/webhooks/${id}`, { token, body: { events: ['a'] } })).body, {
    circuit: 'open',
    failureCount: 7
  })
  t.match((await h.call('PATCH', `/webhooks/${id}`, { token, body: { url: 'http://127.0.0.1:9/y' } })).body, { circuit: 'closed', failureCount: 0, circuitOpenUntil: null })
  await open()
  t.match((await h.call('PATCH', `/webhooks/${id}`, { token, body: { enabled: true, url: 'http://127.0.0.1:9/y' } })).body, { circuit: 'closed', enabled: true, failureCount: 0 })
  await clock.tick(0)
  await open()
  clock.advance(60_000)
  t.match(
    (await h.call('GET', `/webhooks/${id}`, { token })).body,
    { circuit: 'half-open', failureCount: 7 },
    'after the cool-down: half-open'
  )
})

import t from 'tap'
import { globMatches } from '../../src/auth/glob.js'
import { startApp } from '../helpers/app.js'
import { createUser, login } from '../helpers/devices.js'
import { connect, subackCodes, waitFor } from '../helpers/mqtt.js'
import { startReceiver } from '../helpers/webhook-receiver.js'

// #13 item 10: globs built as regular expressions (/^.*.*…Z$/) backtrack exponentially; one webhook pattern of
// 17 `*` then `Z` held the event loop 21 s. With 40 stars the old code never finishes: these tests would time out.
const EVIL = '*'.repeat(40) + 'Z'

t.test('an admin-set webhook pattern of 40 `*` then `Z` does not hold up event delivery', async t => {
  const a = await startApp(t)
  const admin = await createUser(a, { role: 'admin' })
  const token = await login(a, admin.username, admin.password)
  const api = async (method: string, path: string, body: unknown): Promise<Response> =>
    await fetch(`${a.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body)
    })
  const receiver = await startReceiver(t)
  t.equal((await api('POST', '/webhooks', { url: receiver.url, events: [EVIL] })).status, 201)
  t.equal((await api('POST', '/webhooks', { url: receiver.url, events: ['user_*d'] })).status, 201)
  t.equal(
    (await api('POST', '/users', { username: 'someone', password: 'long-enough-password', role: 'viewer' })).status,
    201
  )
  await waitFor(() => receiver.hits.some(h => h.json.event.type === 'user_created'), 20_000)
  t.equal(receiver.hits.length, 1, 'delivered once, to the webhook whose pattern matches')
  t.equal((await fetch(`${a.httpUrl}/health`)).status, 200)
})

t.test('an acl.rules client selector of 40 `*` then `Z` is decided at once', async t => {
  const a = await startApp(t, {
    config: {
      mqtt: { allowAnonymous: true },
      acl: {
        rules: [
          { effect: 'deny', action: 'both', topic: 'g/#', client: EVIL },
          { effect: 'allow', action: 'both', topic: 'g/#' }
        ]
      }
    }
  })
  const c = await connect(t, a.mqttUrl, { clientId: 'a-client-id-of-some-length-0123456789' })
  t.same(await subackCodes(c, 'g/#'), [1], 'the deny rule does not apply (no Z at the end): granted')
  const z = await connect(t, a.mqttUrl, { clientId: 'a-client-id-of-some-length-0123456789Z' })
  t.same(await subackCodes(z, 'g/#'), [128], 'the deny rule applies')
})

t.test('glob semantics', async t => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true],
    ['*', 'anything', true],
    ['device_*', 'device_connected', true],
    ['device_*', 'devic', false],
    ['*_offline', 'device_offline', true],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'axxbyybc', true],
    ['exact', 'exact', true],
    ['exact', 'exacT', false],
    ['x.y', 'xzy', false],
    ['**', 'q', true],
    [EVIL, 'user_created', false],
    [EVIL, 'Z', true],
    ['*b*b', 'bb', true],
    ['*b*b', 'b', false]
  ]
  for (const [p, v, want] of cases) t.equal(globMatches(p, v), want, `${p} ~ ${v}`)
})

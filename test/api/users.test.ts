import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { startApp } from '../helpers/app.js'
import { createUser, login } from '../helpers/devices.js'
import { harness } from './cases/harness.js'
import { connect } from '../helpers/mqtt.js'

t.test('the last enabled admin is never deleted, disabled or demoted (API and CLI)', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const users = app.gateway.services.repos.users
  const boss = await createUser(app, { role: 'admin' })
  const token = await login(app, boss.username, boss.password)
  const errors: string[] = []
  const cli = async (args: string[]): Promise<number> =>
    await runCli(
      ['node', 'autocore-gateway', ...args],
      {
        env: { AUTOCORE_DATA_DIR: app.config.dataDir },
        out: () => {},
        err: l => errors.push(l),
        readStdin: async () => ''
      },
      { once: () => {} }
    )

  // Two enabled admins: `admin` (created at first start) and boss. Disabling one is fine.
  t.equal((await h.call('PATCH', '/users/admin', { token, body: { enabled: false } })).status, 200)
  const lastAdmin = {
    status: 409,
    body: {
      error: {
        code: 'GW_ERR_USER_LAST_ADMIN',
        message: `${boss.username} is the last enabled admin: make another user an admin first`
      }
    }
  }
  t.match(
    await h.call('PATCH', `/users/${boss.username}`, { token, body: { enabled: false } }),
    lastAdmin,
    'a disabled admin does not count'
  )
  t.match(await h.call('PATCH', `/users/${boss.username}`, { token, body: { role: 'operator' } }), lastAdmin)
  t.match(await h.call('DELETE', `/users/${boss.username}`, { token }), lastAdmin)
  t.equal(await cli(['user', 'disable', boss.username]), 1)
  t.match(errors, [/is the last enabled admin.*\(GW_ERR_USER_LAST_ADMIN\)$/], 'the CLI follows the same rule')
  t.match(await users.byUsername(boss.username), { role: 'admin', enabled: true }, 'nothing changed')

  t.equal(
    (await h.call('PATCH', `/users/${boss.username}`, { token, body: { role: 'admin', password: 'still an admin' } }))
      .status,
    200,
    'a change that keeps an admin is fine'
  )
  // The new password revoked every token issued before it (#13), the caller's own included.
  t.match(
    await h.call('GET', '/auth/me', { token }),
    { status: 401 },
    'a password change revokes the tokens issued before it'
  )
  const fresh = await login(app, boss.username, 'still an admin')
  t.equal(await cli(['user', 'enable', 'admin']), 0)
  t.equal(
    (await h.call('DELETE', `/users/${boss.username}`, { token: fresh })).status,
    204,
    'with another admin enabled, deleting is fine'
  )
  t.match(
    await h.call('GET', '/auth/me', { token: fresh }),
    { status: 401 },
    'the deleted user\'s token stops working at once'
  )
})

t.test('users: names and passwords follow the CLI\'s rules; no hash in any answer', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const token = await h.token('admin')
  const weak = await h.call('POST', '/users', { token, body: { username: 'ana', password: 'short', role: 'viewer' } })
  t.match(weak, {
    status: 400,
    body: { error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'body', field: '/password' }] } }
  })
  const badName = await h.call('POST', '/users', {
    token,
    body: { username: 'ana smith', password: 'long enough', role: 'viewer' }
  })
  t.match(badName, { status: 400, body: { error: { details: [{ in: 'body', field: '/username' }] } } })
  const created = await h.call('POST', '/users', {
    token,
    body: { username: 'ana', password: 'long enough', role: 'viewer' }
  })
  t.equal(created.status, 201)
  t.notMatch(JSON.stringify(created.body), /hash|scrypt|long enough/i)
  t.match(await h.call('PATCH', '/users/ana', { token, body: { password: 'short' } }), {
    status: 400,
    body: { error: { details: [{ field: '/password' }] } }
  })
  t.match(await h.call('PATCH', '/users/ana', { token, body: {} }), { status: 400 }, 'an empty change is refused')
  const list = await h.call('GET', '/users', { token })
  t.notMatch(JSON.stringify(list.body), /hash|scrypt/i)
  const events = await app.gateway.services.repos.events.recent({ eventType: 'user_created' })
  t.match(events, [{ target: 'ana', source: 'api', payload: { role: 'viewer' } }], 'an event names who created whom')
  t.notMatch(JSON.stringify(events), /long enough/)
})

t.test('disabling, a new role, a new password or deleting closes the user\'s MQTT connections', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const admin = await h.token('admin')
  const ana = await createUser(app, { role: 'operator' })
  const panel = async (): Promise<Awaited<ReturnType<typeof connect>>> =>
    await connect(t, app.mqttUrl, {
      clientId: `panel-${Math.random()}`,
      username: ana.username,
      password: await login(app, ana.username, ana.password),
      reconnectPeriod: 0
    })
  const closes = async (c: Awaited<ReturnType<typeof connect>>, change: () => Promise<unknown>): Promise<boolean> => {
    const closed = new Promise<boolean>(resolve => c.once('close', () => resolve(true)))
    await change()
    // A connection left open answers a ping: the round-trip proves it was not closed.
    return await Promise.race([closed, c.subscribeAsync('autocore/devices/+/status').then(() => false, () => true)])
  }

  const first = await panel()
  t.equal(
    await closes(
      first,
      async () => await h.call('PATCH', `/users/${ana.username}`, { token: admin, body: { role: 'operator' } })
    ),
    false,
    'the role it already has keeps the connection'
  )
  t.equal(
    await closes(
      first,
      async () => await h.call('PATCH', `/users/${ana.username}`, { token: admin, body: { role: 'viewer' } })
    ),
    true,
    'a new role closes it'
  )
  const renamed = await panel()
  // A new password revokes the tokens issued before it (#13), so the connection made with one ends too.
  t.equal(
    await closes(
      renamed,
      async () =>
        await h.call('PATCH', `/users/${ana.username}`, { token: admin, body: { password: 'a new password' } })
    ),
    true,
    'a password change closes it'
  )
  ana.password = 'a new password'
  const second = await panel()
  t.equal(
    await closes(
      second,
      async () => await h.call('PATCH', `/users/${ana.username}`, { token: admin, body: { enabled: false } })
    ),
    true,
    'disabling closes it'
  )
  t.equal((await h.call('PATCH', `/users/${ana.username}`, { token: admin, body: { enabled: true } })).status, 200)
  const third = await panel()
  t.equal(
    await closes(third, async () => await h.call('DELETE', `/users/${ana.username}`, { token: admin })),
    true,
    'deleting closes it'
  )
})

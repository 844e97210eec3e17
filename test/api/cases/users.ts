import { randomBytes } from 'node:crypto'
import { createUser, login } from '../../helpers/devices.js'
import type { Cases, Harness, Req } from './harness.js'

const USER_KEYS = ['createdAt', 'enabled', 'lastLoginAt', 'role', 'updatedAt', 'username']
const unknown = async (): Promise<{ params: { username: string } }> => ({ params: { username: 'nobody-here' } })

/** Leaves the harness's own admin as the only enabled admin; resolves with its name. */
async function lastAdmin (h: Harness): Promise<string> {
  const me = (await h.call('GET', '/auth/me', { token: await h.token('admin') })).body.username as string
  const users = h.app.gateway.services.repos.users
  for (const u of await users.list()) {
    if (u.role === 'admin' && u.username !== me) await users.update(u.username, { enabled: false }, Date.now())
  }
  return me
}

export const usersCases: Cases = {
  'users.list': {
    happy: async () => ({
      check: (t, res) => {
        t.match(res.body.items[0], { username: 'admin', role: 'admin', enabled: true })
        for (const u of res.body.items) t.same(Object.keys(u).sort(), USER_KEYS, 'no password hash')
      }
    })
  },
  'users.get': {
    happy: async h => {
      const u = await createUser(h.app, { role: 'operator' })
      return {
        params: { username: u.username },
        check: (t, res) =>
          t.same(Object.keys(res.body).sort(), USER_KEYS) &&
          t.match(res.body, { username: u.username, role: 'operator', enabled: true, lastLoginAt: null })
      }
    },
    notFound: unknown
  },
  'users.create': {
    happy: async h => {
      const username = `new-${randomBytes(3).toString('hex')}`
      return {
        body: { username, password: 'long enough', role: 'operator' },
        check: async (t, res) => {
          t.match(res.body, { username, role: 'operator', enabled: true })
          t.ok(await login(h.app, username, 'long enough'), 'the new user logs in')
        }
      }
    },
    conflict: async h => ({
      body: {
        username: (await createUser(h.app, { role: 'viewer' })).username,
        password: 'long enough',
        role: 'viewer'
      }
    })
  },
  'users.update': {
    happy: async h => {
      const u = await createUser(h.app, { role: 'viewer' })
      return {
        params: { username: u.username },
        body: { role: 'operator', password: 'a new password' },
        check: async (t, res) => {
          t.match(res.body, { username: u.username, role: 'operator', enabled: true })
          t.ok(await login(h.app, u.username, 'a new password'), 'the new password works')
        }
      }
    },
    notFound: async () => ({ params: { username: 'nobody-here' }, body: { enabled: true } }),
    conflict: async (h): Promise<Req> => ({ params: { username: await lastAdmin(h) }, body: { role: 'operator' } })
  },
  'users.delete': {
    happy: async h => {
      const u = await createUser(h.app, { role: 'viewer' })
      return {
        params: { username: u.username },
        check: async t => t.equal(await h.app.gateway.services.repos.users.byUsername(u.username), undefined)
      }
    },
    notFound: unknown,
    conflict: async (h): Promise<Req> => ({ params: { username: await lastAdmin(h) } })
  }
}

import { createUser } from '../../helpers/devices.js'
import type { Cases } from './harness.js'

export const authCases: Cases = {
  'auth.login': {
    happy: async h => {
      const u = await createUser(h.app, { role: 'operator' })
      return {
        body: { username: u.username, password: u.password },
        check: (t, res) => t.match(res.body, { token: String, user: { username: u.username, role: 'operator' } })
      }
    }
  },
  'auth.refresh': {
    happy: async () => ({ check: (t, res) => t.match(res.body, { token: /^ey/, user: { role: 'viewer' } }) })
  },
  'auth.me': {
    happy: async () => ({
      check: (t, res) => t.match(res.body, { username: /^viewer-/, role: 'viewer', lastLoginAt: String })
    })
  }
}

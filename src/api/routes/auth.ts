import type { Services } from '../../services/index.js'
import { GatewayError } from '../../errors.js'
import { issueToken } from '../../auth/jwt.js'
import { verifySecret } from '../../auth/passwords.js'
import type { ApiRole } from '../middleware/api-access.js'
import { route, type RouteSpec } from '../route-table.js'
import { storedUser } from '../../services/accounts.js'

const unknownBearer = (): GatewayError => new GatewayError('GW_ERR_AUTH_REQUIRED', 'unknown or disabled user')

const tokenResponse = {
  type: 'object',
  required: ['token', 'expiresAt', 'user'],
  properties: {
    token: { type: 'string', description: 'a JWT: the Bearer token of the API and the MQTT password of the panel' },
    expiresAt: { type: 'string', format: 'date-time' },
    user: {
      type: 'object',
      properties: { username: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'operator', 'admin'] } }
    }
  }
}

async function tokenFor (
  app: Services,
  user: { username: string, role: ApiRole, tokenVersion: number }
): Promise<unknown> {
  const issued = await issueToken(app.auth.jwtKey, user, app.clock.now(), app.config.auth.jwtExpiresInS)
  return {
    token: issued.token,
    expiresAt: new Date(issued.expiresAt).toISOString(),
    user: { username: user.username, role: user.role }
  }
}

/**
 * `/auth`: login gives a JWT that is also the user's MQTT password; failed logins count towards the same
 * per-address/per-user penalty as MQTT. `refresh` trades a valid token for a fresh one; `me` says who the token is.
 */
export const authRoutes: RouteSpec[] = [
  route<unknown, unknown, { username: string, password: string }>({
    id: 'auth.login',
    method: 'POST',
    path: '/auth/login',
    role: 'public',
    tag: 'auth',
    summary: 'Log in: a JWT for the API (Bearer) and for MQTT over WebSocket (password)',
    body: {
      type: 'object',
      required: ['username', 'password'],
      additionalProperties: false,
      properties: {
        username: { type: 'string', minLength: 1, maxLength: 64 },
        password: { type: 'string', minLength: 1, maxLength: 1024 }
      }
    },
    response: tokenResponse,
    errors: ['GW_ERR_AUTH_BAD_CREDENTIALS', 'GW_ERR_AUTH_THROTTLED'],
    handler: async (req, app) => {
      const { username, password } = req.body
      const r = await app.auth.authenticator.guard(req.ip, username, async () => {
        const user = await app.repos.users.byUsername(username)
        return user !== undefined && user.enabled && await verifySecret(password, user.passwordHash) ? user : undefined
      }, user => user === undefined)
      if (r.throttled) {
        app.bus.emit('http.login_failed', { username, remoteAddress: req.ip, throttled: true })
        throw new GatewayError('GW_ERR_AUTH_THROTTLED')
      }
      const found = r.result
      if (found === undefined) {
        app.bus.emit('http.login_failed', { username, remoteAddress: req.ip, throttled: false })
        void app.events.log({
          level: 'warning',
          type: 'auth_failed',
          source: 'api',
          action: 'login',
          target: username,
          username,
          payload: { remoteAddress: req.ip }
        })
        throw new GatewayError('GW_ERR_AUTH_BAD_CREDENTIALS')
      }
      await app.repos.users.update(found.username, { lastLoginAt: app.clock.now() }, app.clock.now())
      return await tokenFor(app, found)
    }
  }),
  route({
    id: 'auth.refresh',
    method: 'POST',
    path: '/auth/refresh',
    role: 'viewer',
    tag: 'auth',
    summary: 'A fresh token for the bearer of a valid one (same user, role as stored now)',
    response: tokenResponse,
    handler: async (req, app) => {
      // The stored token version: the middleware has just checked the bearer's is that one.
      return await tokenFor(app, await storedUser(app.repos.users, req.user.username, unknownBearer))
    }
  }),
  route({
    id: 'auth.me',
    method: 'GET',
    path: '/auth/me',
    role: 'viewer',
    tag: 'auth',
    summary: 'The user the token belongs to',
    response: {
      type: 'object',
      properties: { username: { type: 'string' }, role: { type: 'string' }, lastLoginAt: { type: ['string', 'null'] } }
    },
    handler: async (req, app) => {
      const u = await app.repos.users.byUsername(req.user.username)
      return {
        username: req.user.username,
        role: req.user.role,
        lastLoginAt: u?.lastLoginAt == null ? null : new Date(u.lastLoginAt).toISOString()
      }
    }
  })
]

import Router from '@koa/router'
import type { JSONSchemaType } from 'ajv'
import type { AppContext } from '../../context.js'
import { GatewayError } from '../../errors.js'
import { issueToken } from '../../auth/jwt.js'
import { verifySecret } from '../../auth/passwords.js'
import { bodyValidator } from '../validate.js'

interface LoginBody { username: string, password: string }

const loginSchema: JSONSchemaType<LoginBody> = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } }
}
const validateLogin = bodyValidator(loginSchema)

/**
 * `POST /api/v1/auth/login` {username, password} → {token, expiresAt, user: {username, role}}: a JWT that is
 * also the user's MQTT password. Failed logins count towards the same per-address/per-user penalty as MQTT.
 */
export function authRoutes (app: AppContext): Router {
  const router = new Router({ prefix: '/api/v1/auth' })
  router.post('/login', async ctx => {
    const body = validateLogin(ctx.request.body)
    const r = await app.auth.authenticator.guard(ctx.ip, body.username, async () => {
      const user = await app.repos.users.byUsername(body.username)
      return user !== undefined && user.enabled && await verifySecret(body.password, user.passwordHash) ? user : undefined
    }, user => user === undefined)
    if (r.throttled) throw new GatewayError('GW_ERR_AUTH_THROTTLED')
    const found = r.result
    if (found === undefined) {
      void app.events.log({ level: 'warning', type: 'auth_failed', source: 'api', action: 'login', target: body.username, username: body.username, payload: { remoteAddress: ctx.ip } })
      throw new GatewayError('GW_ERR_AUTH_BAD_CREDENTIALS')
    }
    const now = app.clock.now()
    const issued = await issueToken(app.auth.jwtKey, { username: found.username, role: found.role }, now, app.config.auth.jwtExpiresInS)
    await app.repos.users.update(found.username, { lastLoginAt: now }, now)
    ctx.body = { token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString(), user: { username: found.username, role: found.role } }
  })
  return router
}

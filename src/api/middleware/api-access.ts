import type { Middleware } from 'koa'
import type { Services } from '../../services/index.js'
import { tokenRevoked, verifyToken } from '../../auth/jwt.js'
import { GatewayError } from '../../errors.js'

export type ApiRole = 'viewer' | 'operator' | 'admin'

const RANK: Record<ApiRole, number> = { viewer: 0, operator: 1, admin: 2 }

/**
 * Every /api/v1 route but login declares the role it needs (SPEC §2: viewer reads, operator controls, admin
 * manages). The caller presents the JWT from `POST /api/v1/auth/login` as `Authorization: Bearer <token>`; the
 * token must verify and its user must still exist, be enabled and hold at least `role` (the role is read from the
 * store, so a demotion takes effect at once). The acting user is left in `ctx.state.user`.
 */
export function requireApiRole (app: Services, role: ApiRole): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization')
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (match === null) {
      throw new GatewayError('GW_ERR_AUTH_REQUIRED', 'an Authorization: Bearer <token> header is required')
    }
    const check = await verifyToken(app.auth.jwtKey, match[1], app.clock.now())
    if (!check.ok) throw new GatewayError('GW_ERR_AUTH_REQUIRED', check.reason)
    const user = await app.repos.users.byUsername(check.username)
    if (user === undefined || !user.enabled) throw new GatewayError('GW_ERR_AUTH_REQUIRED', 'unknown or disabled user')
    // Issued before a password change, a new role or a disable of this user.
    if (tokenRevoked(check, user)) throw new GatewayError('GW_ERR_AUTH_REQUIRED', 'token revoked')
    if (RANK[user.role] < RANK[role]) throw new GatewayError('GW_ERR_AUTH_FORBIDDEN', `this needs the ${role} role`)
    ctx.state.user = { username: user.username, role: user.role }
    await next()
  }
}

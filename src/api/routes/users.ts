import type { User } from '../../../entities/user.js'
import type { Services } from '../../services/index.js'
import { USER_ROLES, type UserRole } from '../../auth/principal.js'
import { closeSessions } from '../../broker/sessions.js'
import {
  MIN_PASSWORD_LENGTH,
  USERNAME,
  changeUser,
  createUser,
  deleteUser,
  storedUser,
  type UserChange
} from '../../services/accounts.js'
import {
  creates,
  auditChange,
  pageQuery,
  pageOf,
  paginate,
  route,
  type Page,
  type RouteSpec,
  type Schema
} from '../route-table.js'
import { iso } from '../time-query.js'

const isoTime = { type: 'string', format: 'date-time' }

/** A user as the API shows it; never its password hash. */
const userSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'role', 'enabled', 'createdAt', 'updatedAt', 'lastLoginAt'],
  properties: {
    username: { type: 'string' },
    role: { type: 'string', enum: USER_ROLES },
    enabled: { type: 'boolean' },
    createdAt: isoTime,
    updatedAt: isoTime,
    lastLoginAt: { type: ['string', 'null'], format: 'date-time' }
  }
}

function userView (u: User): Record<string, unknown> {
  return {
    username: u.username,
    role: u.role,
    enabled: u.enabled,
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
    lastLoginAt: iso(u.lastLoginAt)
  }
}

const params: Schema = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 } }
}
const role = { type: 'string', enum: USER_ROLES }
const password = { type: 'string', minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 }
const common = { tag: 'users', role: 'admin', params, errors: ['GW_ERR_USER_NOT_FOUND'] } as const

/** Closes the user's live MQTT connections (its panels reconnect and are checked with what the user is now). */
function closeUserSessions (app: Services, username: string): void {
  closeSessions(app.broker.aedes, app.hooks.principalOf, p => p.kind === 'user' && p.username === username)
}

/**
 * `/users` (admin): accounts of the API and the panels. The rules are the CLI's (services/accounts.ts): names,
 * password length, and never leaving the gateway without an enabled admin (409 GW_ERR_USER_LAST_ADMIN).
 */
export const usersRoutes: RouteSpec[] = [
  route<unknown, Page>({
    id: 'users.list',
    method: 'GET',
    path: '/users',
    role: 'admin',
    tag: 'users',
    summary: 'Users in creation order',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(userSchema),
    handler: async (req, app) => paginate((await app.repos.users.list()).map(userView), req.query)
  }),
  route<{ username: string }>({
    ...common,
    id: 'users.get',
    method: 'GET',
    path: '/users/:username',
    summary: 'One user',
    response: userSchema,
    handler: async (req, app) => userView(await storedUser(app.repos.users, req.params.username))
  }),
  route<unknown, unknown, { username: string, password: string, role: UserRole }>({
    ...creates,
    id: 'users.create',
    path: '/users',
    tag: 'users',
    summary: 'Create an enabled user (as `user add`)',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['username', 'password', 'role'],
      properties: {
        username: { type: 'string', pattern: USERNAME.source, description: 'letters, digits and ._@-, up to 64' },
        password,
        role
      }
    },
    response: userSchema,
    errors: ['GW_ERR_USER_EXISTS'],
    handler: async (req, app) => {
      const u = await createUser(app.repos.users, req.body, () => app.clock.now())
      await auditChange(app, req, 'user_created', u.username, { role: u.role })
      return userView(u)
    }
  }),
  route<{ username: string }, unknown, UserChange>({
    ...common,
    id: 'users.update',
    method: 'PATCH',
    path: '/users/:username',
    summary:
      'Change role, enabled and/or password; never disables or demotes the last enabled admin. A new password, a new ' +
        'role or disabling revokes its tokens and closes its MQTT connections',
    body: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { role, enabled: { type: 'boolean' }, password }
    },
    response: userSchema,
    errors: ['GW_ERR_USER_NOT_FOUND', 'GW_ERR_USER_LAST_ADMIN'],
    handler: async (req, app) => {
      const before = await app.repos.users.byUsername(req.params.username)
      const u = await changeUser(app.repos.users, req.params.username, req.body, () => app.clock.now())
      // Its MQTT connections hold the rights of their CONNECT: a disabled user, a new role or a new password (which
      // revokes the tokens they connected with) takes effect at once.
      if (!u.enabled || u.role !== before?.role || req.body.password !== undefined) closeUserSessions(app, u.username)
      // Which fields changed, never the password itself.
      await auditChange(app, req, 'user_updated', u.username, {
        fields: Object.keys(req.body),
        role: u.role,
        enabled: u.enabled
      })
      return userView(u)
    }
  }),
  route<{ username: string }>({
    ...common,
    id: 'users.delete',
    method: 'DELETE',
    path: '/users/:username',
    summary:
      'Delete a user, never the last enabled admin; its tokens stop working at once and its MQTT connections are ' +
        'closed',
    status: 204,
    errors: ['GW_ERR_USER_NOT_FOUND', 'GW_ERR_USER_LAST_ADMIN'],
    handler: async (req, app) => {
      await deleteUser(app.repos.users, req.params.username)
      closeUserSessions(app, req.params.username)
      await auditChange(app, req, 'user_deleted', req.params.username)
    }
  })
]

import type { User } from '../../entities/user.js'
import { hashSecret } from '../auth/passwords.js'
import type { UserRole } from '../auth/principal.js'
import { GatewayError } from '../errors.js'
import type { UsersRepository } from '../persistence/repositories/users.js'

// The user-account rules, once: the CLI (`user add|disable|enable`) and the API (`/users`) both call these.

export const MIN_PASSWORD_LENGTH = 8
/** Letters, digits and `._@-`, up to 64 characters (the column's width), starting with a letter or digit. */
export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/

export interface UserChange { role?: UserRole, enabled?: boolean, password?: string }

function checkPassword (password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new GatewayError(
      'GW_ERR_USER_WEAK_PASSWORD',
      `the password must have at least ${MIN_PASSWORD_LENGTH} characters`
    )
  }
}

/**
 * Creates an enabled user: a valid name (GW_ERR_USER_INVALID_NAME), a long enough password, not taken
 * (GW_ERR_USER_EXISTS).
 */
export async function createUser (
  users: UsersRepository,
  input: { username: string, password: string, role: UserRole },
  now: () => number
): Promise<User> {
  if (!USERNAME.test(input.username)) {
    throw new GatewayError('GW_ERR_USER_INVALID_NAME', `not a valid user name: ${input.username}`)
  }
  checkPassword(input.password)
  if (await users.byUsername(input.username) !== undefined) throw userExists(input.username)
  const passwordHash = await hashSecret(input.password)
  try {
    return await users.create({ username: input.username, role: input.role, passwordHash }, now())
  } catch (err) {
    if (await users.byUsername(input.username) !== undefined) throw userExists(input.username)
    throw err
  }
}

/**
 * Changes role, enabled and/or password. Refuses (GW_ERR_USER_LAST_ADMIN) to disable or demote the last enabled
 * admin: the check and the write are one statement, so two admins demoting each other cannot both succeed.
 */
export async function changeUser (
  users: UsersRepository,
  username: string,
  change: UserChange,
  now: () => number
): Promise<User> {
  if (change.password !== undefined) checkPassword(change.password)
  const before = await users.byUsername(username)
  // A new password, a new role or a disable revokes every login token issued before (its MQTT sessions end too).
  const revokeTokens =
    change.password !== undefined ||
    change.enabled === false ||
    (change.role !== undefined && change.role !== before?.role)
  const patch = {
    ...(revokeTokens ? { revokeTokens } : {}),
    ...(change.role === undefined ? {} : { role: change.role }),
    ...(change.enabled === undefined ? {} : { enabled: change.enabled }),
    ...(change.password === undefined ? {} : { passwordHash: await hashSecret(change.password) })
  }
  const outcome = await users.guardedUpdate(username, patch, now())
  if (outcome === 'not_found') throw userNotFound(username)
  if (outcome === 'last_admin') throw lastAdmin(username)
  return await users.byUsername(username) as User
}

/** Deletes a user, never the last enabled admin (GW_ERR_USER_LAST_ADMIN). */
export async function deleteUser (users: UsersRepository, username: string): Promise<void> {
  const outcome = await users.guardedDelete(username)
  if (outcome === 'not_found') throw userNotFound(username)
  if (outcome === 'last_admin') throw lastAdmin(username)
}

export function userNotFound (username: string): GatewayError {
  return new GatewayError('GW_ERR_USER_NOT_FOUND', `no user ${username}`)
}

function userExists (username: string): GatewayError {
  return new GatewayError('GW_ERR_USER_EXISTS', `user ${username} already exists`)
}

function lastAdmin (username: string): GatewayError {
  return new GatewayError(
    'GW_ERR_USER_LAST_ADMIN',
    `${username} is the last enabled admin: make another user an admin first`
  )
}

/** The stored user of this name, or the error `missing` makes (by default GW_ERR_USER_NOT_FOUND). */
export async function storedUser (
  users: UsersRepository,
  username: string,
  missing: (username: string) => GatewayError = userNotFound
): Promise<User> {
  const u = await users.byUsername(username)
  if (u === undefined) throw missing(username)
  return u
}

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { UsersRepository } from '../persistence/repositories/users.js'
import { hashSecret, randomSecret } from './passwords.js'

export const INITIAL_ADMIN_FILE = 'initial-admin-password'

/**
 * First start with no users: creates `admin` with a random password, written once to
 * <dataDir>/initial-admin-password (mode 0600). The log names the file, never the password.
 */
export async function ensureInitialAdmin (
  users: UsersRepository,
  dataDir: string,
  clock: Pick<Clock, 'now'>,
  log: Logger
): Promise<void> {
  if (await users.count() > 0) return
  mkdirSync(dataDir, { recursive: true })
  const password = randomSecret()
  const file = join(dataDir, INITIAL_ADMIN_FILE)
  writeFileSync(file, password + '\n', { mode: 0o600 })
  await users.create({ username: 'admin', role: 'admin', passwordHash: await hashSecret(password) }, clock.now())
  log.warn({ username: 'admin', file }, 'initial admin user created; its password is in the file')
}

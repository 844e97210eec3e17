/**
 * Real identities for the bench scenarios that drive the app over MQTT: anonymous MQTT is off by default and an
 * anonymous client may not touch `autocore/` (SPEC §3), so devices and users are provisioned in the data dir's
 * database before the gateway starts (what `device add` / `user add` do), and users log in over HTTP for their
 * MQTT password (a JWT), as a panel does.
 */
import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import type { UserRole } from '../../src/auth/principal.js'
import { hashSecret } from '../../src/auth/passwords.js'
import { loadConfig } from '../../src/config/loader.js'
import { openDatabase } from '../../src/persistence/database.js'
import { createRepositories } from '../../src/persistence/repositories/index.js'

/** One secret for every bench device, hashed once: hashing is deliberately slow and would dominate the setup. */
export interface DeviceSecret { secret: string, secretHash: string }

export async function deviceSecret (): Promise<DeviceSecret> {
  const secret = randomBytes(18).toString('base64url')
  return { secret, secretHash: await hashSecret(secret) }
}

/** Creates a user of `role` in `dataDir`'s database (the gateway must not be running on it yet). */
export async function addUser (dataDir: string, role: UserRole): Promise<{ username: string, password: string }> {
  const db = await openDatabase(loadConfig({ env: {}, overrides: { dataDir } }), pino({ level: 'silent' }))
  try {
    const user = { username: `bench-${role}`, password: randomBytes(12).toString('base64url') }
    await createRepositories(db).users.create(
      { username: user.username, role, passwordHash: await hashSecret(user.password) },
      Date.now()
    )
    return user
  } finally {
    await db.close()
  }
}

/** `POST /api/v1/auth/login` on the running gateway; resolves with the JWT, the user's MQTT password. */
export async function login (httpPort: number, user: { username: string, password: string }): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) })
  if (res.status !== 200) throw new Error(`login ${user.username}: HTTP ${res.status} ${await res.text()}`)
  return ((await res.json()) as { token: string }).token
}

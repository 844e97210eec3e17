import { randomBytes, randomUUID } from 'node:crypto'
import type mqtt from 'mqtt'
import type { Test } from 'tap'
import { hashSecret } from '../../src/auth/passwords.js'
import type { UserRole } from '../../src/auth/principal.js'
import type { RunningApp } from './app.js'
import { connect, type Client } from './mqtt.js'

export interface DeviceSpec { type?: string, name?: string, uuid?: string, capabilities?: string[] }

/** Provisions a device straight in the database (what `device add` does); resolves with its UUID and secret. */
export async function provisionDevice (
  app: RunningApp,
  spec: DeviceSpec = {}
): Promise<{ uuid: string, secret: string }> {
  const uuid = spec.uuid ?? randomUUID()
  const secret = randomBytes(18).toString('base64url')
  const ctx = app.gateway.services
  await ctx.repos.devices.create({
    uuid,
    name: spec.name ?? `test ${uuid.slice(0, 8)}`,
    type: spec.type ?? 'relay_board',
    secretHash: await hashSecret(secret),
    capabilities: spec.capabilities ?? null
  }, ctx.clock.now())
  return { uuid, secret }
}

/** Provisions a device, then connects as it (client id = username = UUID, password = secret). */
export async function deviceClient (
  t: Test,
  app: RunningApp,
  opts: DeviceSpec & { transport?: 'tcp' | 'ws', mqtt?: mqtt.IClientOptions } = {}
): Promise<{ client: Client, uuid: string, secret: string }> {
  const { uuid, secret } = await provisionDevice(app, opts)
  const client = await connect(t, opts.transport === 'ws' ? app.wsUrl : app.mqttUrl, {
    clientId: uuid,
    username: uuid,
    password: secret,
    ...opts.mqtt
  })
  return { client, uuid, secret }
}

/** Creates a user straight in the database (what `user add` does). */
export async function createUser (
  app: RunningApp,
  opts: { username?: string, role: UserRole }
): Promise<{ username: string, password: string }> {
  const username = opts.username ?? `${opts.role}-${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('base64url')
  const ctx = app.gateway.services
  await ctx.repos.users.create({ username, role: opts.role, passwordHash: await hashSecret(password) }, ctx.clock.now())
  return { username, password }
}

/** `POST /api/v1/auth/login`; resolves with the token (throws on a non-200). */
export async function login (app: RunningApp, username: string, password: string): Promise<string> {
  const res = await fetch(`${app.httpUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password })
  })
  if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status} ${await res.text()}`)
  return ((await res.json()) as { token: string }).token
}

/** Creates a user of `role`, logs in over HTTP and connects with the JWT as MQTT password (WebSocket by default). */
export async function userClient (
  t: Test,
  app: RunningApp,
  role: UserRole,
  opts: { transport?: 'ws' | 'tcp', mqtt?: mqtt.IClientOptions } = {}
): Promise<{ client: Client, username: string, token: string }> {
  const { username, password } = await createUser(app, { role })
  const token = await login(app, username, password)
  const client = await connect(t, opts.transport === 'tcp' ? app.mqttUrl : app.wsUrl, {
    username,
    password: token,
    ...opts.mqtt
  })
  return { client, username, token }
}

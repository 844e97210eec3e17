import { randomBytes, randomUUID } from 'node:crypto'
import type mqtt from 'mqtt'
import type { Test } from 'tap'
import { Device } from '../../entities/index.js'
import { connect, type Client } from './mqtt.js'
import type { RunningApp } from './app.js'

// PLACEHOLDERS with the signatures of the access branch's helpers (the lead swaps in the real ones at merge):
// devices are inserted straight into the store and connect anonymously with clientId = uuid; users connect
// anonymously with clientId `user-<role>-<n>`. Nothing here checks a secret or a role.

export type Role = 'viewer' | 'operator' | 'admin'

export async function provisionDevice (app: RunningApp, opts: { type?: string, name?: string, uuid?: string, capabilities?: string[] } = {}): Promise<{ uuid: string, secret: string }> {
  const uuid = opts.uuid ?? randomUUID()
  const now = Date.now()
  await app.gateway.ctx.db.dataSource.getRepository(Device).insert({
    uuid, name: opts.name ?? uuid, type: opts.type ?? 'relay_board', capabilities: opts.capabilities ?? null, createdAt: now, updatedAt: now
  } as never)
  return { uuid, secret: randomBytes(16).toString('hex') }
}

export async function deviceClient (t: Test, app: RunningApp, opts: { type?: string, uuid?: string, capabilities?: string[], transport?: 'tcp' | 'ws', mqtt?: mqtt.IClientOptions } = {}): Promise<{ client: Client, uuid: string, secret: string }> {
  const { uuid, secret } = await provisionDevice(app, opts)
  const client = await connect(t, opts.transport === 'ws' ? app.wsUrl : app.mqttUrl, { clientId: uuid, ...opts.mqtt })
  return { client, uuid, secret }
}

export async function createUser (_app: RunningApp, opts: { username?: string, role: Role }): Promise<{ username: string, password: string }> {
  return { username: opts.username ?? `${opts.role}-${randomBytes(3).toString('hex')}`, password: randomBytes(8).toString('hex') }
}

export async function userClient (t: Test, app: RunningApp, role: Role, opts: { transport?: 'tcp' | 'ws', mqtt?: mqtt.IClientOptions } = {}): Promise<{ client: Client, username: string, token: string }> {
  const { username } = await createUser(app, { role })
  const client = await connect(t, opts.transport === 'ws' ? app.wsUrl : app.mqttUrl, { clientId: `user-${role}-${randomBytes(3).toString('hex')}`, ...opts.mqtt })
  return { client, username, token: '' }
}

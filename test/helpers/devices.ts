import { randomBytes, randomUUID } from 'node:crypto'
import type mqtt from 'mqtt'
import type { Test } from 'tap'
import type { RunningApp } from './app.js'
import { connect, type Client } from './mqtt.js'

export interface ProvisionOptions { type?: string, name?: string, uuid?: string, capabilities?: string[] }

/**
 * A device row the gateway knows. This branch has no provisioning yet: the row is inserted directly with no
 * secret (the identities branch provides the same signature, hashing a real secret).
 */
export async function provisionDevice (app: RunningApp, opts: ProvisionOptions = {}): Promise<{ uuid: string, secret: string }> {
  const uuid = opts.uuid ?? randomUUID()
  const now = Date.now()
  await app.gateway.ctx.db.dataSource.query(
    'INSERT INTO devices (uuid, name, type, status, enabled, secret_hash, capabilities, config_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)'
      .replace(/\$\d+/g, app.config.database.type === 'postgres' ? m => m : () => '?'),
    [uuid, opts.name ?? `test ${uuid.slice(0, 8)}`, opts.type ?? 'sensor', 'offline', true, null, JSON.stringify(opts.capabilities ?? []), 0, now, now]
  )
  return { uuid, secret: randomBytes(16).toString('hex') }
}

export interface DeviceClientOptions extends ProvisionOptions { transport?: 'tcp' | 'ws', mqtt?: mqtt.IClientOptions }

/** Provisions a device, then connects as it (clientId = uuid; anonymous in this branch); ended at teardown. */
export async function deviceClient (t: Test, app: RunningApp, opts: DeviceClientOptions = {}): Promise<{ client: Client, uuid: string, secret: string }> {
  const { uuid, secret } = await provisionDevice(app, opts)
  const url = opts.transport === 'ws' ? app.wsUrl : app.mqttUrl
  const client = await connect(t, url, { clientId: uuid, ...opts.mqtt })
  return { client, uuid, secret }
}

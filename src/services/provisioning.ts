import { randomUUID } from 'node:crypto'
import type { Device } from '../../entities/device.js'
import { hashSecret, randomSecret } from '../auth/passwords.js'
import { GatewayError } from '../errors.js'
import { DEVICE_ID } from '../protocol/index.js'
import type { DevicesRepository } from '../persistence/repositories/devices.js'

// The provisioning rules, once: the CLI (`device add|approve|rotate-secret`) and the API (`POST /devices`,
// `/devices/:uuid/approve`, `/devices/:uuid/rotate-secret`) both call these.

export interface NewDeviceInput {
  name: string
  type: string
  /** Default: a new random UUID. */
  uuid?: string
  capabilities?: string[] | null
}

type Devices = Pick<DevicesRepository, 'byUuid' | 'create' | 'update'>
/**
 * The clock, read at the write itself: hashing takes tens of milliseconds, and a write stamped before it would
 * land behind a change-feed cursor that moved on meanwhile.
 */
type Now = () => number

/** A device and its secret; the secret exists only here (the store keeps its scrypt hash): show it once. */
export interface Provisioned { device: Device, secret: string }

/**
 * Provisions a device: a valid id (RFC 4122 UUID or `^[a-z0-9][a-z0-9-]{2,63}$`, else GW_ERR_DEVICE_INVALID_ID),
 * not taken (GW_ERR_DEVICE_EXISTS), a random secret stored only as its hash.
 */
export async function provisionDevice (devices: Devices, input: NewDeviceInput, now: Now): Promise<Provisioned> {
  const uuid = input.uuid ?? randomUUID()
  if (!DEVICE_ID.test(uuid)) throw new GatewayError('GW_ERR_DEVICE_INVALID_ID', `not a valid device id: ${uuid}`)
  if (await devices.byUuid(uuid) !== undefined) throw deviceExists(uuid)
  const secret = randomSecret()
  const secretHash = await hashSecret(secret)
  try {
    const device = await devices.create(
      { uuid, name: input.name, type: input.type, secretHash, capabilities: input.capabilities ?? null },
      now()
    )
    return { device, secret }
  } catch (err) {
    // Provisioned by someone else between the check and the insert (the unique index refused it).
    if (await devices.byUuid(uuid) !== undefined) throw deviceExists(uuid)
    throw err
  }
}

/** A new secret; the old one stops working at the device's next CONNECT. GW_ERR_DEVICE_NOT_FOUND if unknown. */
export async function rotateDeviceSecret (devices: Devices, uuid: string, now: Now): Promise<string> {
  const secret = randomSecret()
  const secretHash = await hashSecret(secret)
  if (!await devices.update(uuid, { secretHash }, now())) throw deviceNotFound(uuid)
  return secret
}

/**
 * Approves a pending (auto-registered) device: `pending` → `offline`, full device rights from its next CONNECT.
 * A device that is not pending is left as it is. Resolves with the status it has now.
 */
export async function approveDevice (devices: Devices, uuid: string, now: Now): Promise<Device> {
  const d = await devices.byUuid(uuid)
  if (d === undefined) throw deviceNotFound(uuid)
  if (d.status !== 'pending') return d
  await devices.update(uuid, { status: 'offline' }, now())
  return (await devices.byUuid(uuid)) ?? d
}

export function deviceNotFound (uuid: string): GatewayError {
  return new GatewayError('GW_ERR_DEVICE_NOT_FOUND', `no device ${uuid}`)
}

function deviceExists (uuid: string): GatewayError {
  return new GatewayError('GW_ERR_DEVICE_EXISTS', `device ${uuid} already exists`)
}

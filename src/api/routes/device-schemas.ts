// The schemas and JSON view of /devices (routes in devices.ts).
import type { Device } from '../../../entities/device.js'
import { type Schema } from '../route-table.js'
import { closedRecord } from '../schemas.js'
import { iso } from '../time-query.js'

export const isoTime = { type: 'string', format: 'date-time' }
export const nullable = (type: string): Schema => ({ type: [type, 'null'] })

/** A device as every answer shows it (a panel depends on this shape); never its secret hash. */
export const deviceSchema: Schema = closedRecord({
  uuid: { type: 'string' },
  name: { type: 'string' },
  type: { type: 'string' },
  status: { type: 'string', enum: ['online', 'offline', 'pending'] },
  enabled: { type: 'boolean' },
  firmware: nullable('string'),
  ipAddress: nullable('string'),
  macAddress: nullable('string'),
  capabilities: { type: 'array', items: { type: 'string' } },
  lastSeen: { type: ['string', 'null'], format: 'date-time' },
  configVersion: { type: 'integer' },
  appliedConfigVersion: nullable('integer'),
  createdAt: isoTime,
  updatedAt: isoTime
})

export function deviceView (d: Device): Record<string, unknown> {
  return {
    uuid: d.uuid,
    name: d.name,
    type: d.type,
    status: d.status,
    enabled: d.enabled,
    firmware: d.firmware,
    ipAddress: d.ipAddress,
    macAddress: d.macAddress,
    capabilities: d.capabilities ?? [],
    lastSeen: iso(d.lastSeen),
    configVersion: d.configVersion,
    appliedConfigVersion: d.appliedConfigVersion,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt)
  }
}

export const uuidParams: Schema = {
  type: 'object',
  required: ['uuid'],
  properties: { uuid: { type: 'string', minLength: 1, maxLength: 64 } }
}
export const nameProp = { type: 'string', minLength: 1, maxLength: 128 }
export const typeProp = {
  type: 'string',
  minLength: 1,
  maxLength: 32,
  description: 'relay_board, display, sensor, can_bridge, emergency_button, ...'
}
export const capabilities = {
  type: 'array',
  maxItems: 32,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 32 },
  description: 'e.g. emergency_button, display (they grant MQTT rights)'
}
export const withSecret: Schema = {
  ...deviceSchema,
  required: [...deviceSchema.required as string[], 'secret'],
  properties: {
    ...(deviceSchema.properties as object),
    secret: { type: 'string', description: 'the MQTT password; shown only in this answer' }
  }
}
export const common = { tag: 'devices', params: uuidParams, errors: ['GW_ERR_DEVICE_NOT_FOUND'] } as const

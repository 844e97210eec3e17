/**
 * The JSON Schema of every payload a client may send (SPEC §3), referenced by its family in protocol/families.ts.
 * Plain objects (the panel imports the table too); compiled once by protocol/validate.ts. Families without a schema
 * are only size-checked.
 */
const str = (maxLength: number): object => ({ type: 'string', maxLength })
const reading = {
  anyOf: [
    { type: ['number', 'boolean'] },
    str(255),
    {
      type: 'object',
      required: ['value'],
      properties: { value: { anyOf: [{ type: ['number', 'boolean'] }, str(255)] }, unit: str(16) }
    }
  ]
}

export const telemetry = {
  type: 'object',
  minProperties: 1,
  maxProperties: 256,
  properties: { ts: { anyOf: [{ type: 'number' }, str(64)] } },
  additionalProperties: reading
}

export const announce = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', minLength: 1, maxLength: 32 },
    name: { type: 'string', minLength: 1, maxLength: 128 },
    firmware: str(64),
    ip: str(45),
    mac: { type: 'string', pattern: '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$' },
    capabilities: { type: 'array', maxItems: 32, items: str(32) }
  }
}

export const deviceStatus = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { enum: ['online', 'offline'] },
    uptime: { type: 'number', minimum: 0 },
    rssi: { type: 'number' },
    free_heap: { type: 'number', minimum: 0 },
    config_version: { type: 'integer', minimum: 0, maximum: 2147483647 }
  }
}

export const commandResponse = {
  type: 'object',
  required: ['command_id', 'status'],
  properties: {
    command_id: { type: 'string', minLength: 1, maxLength: 36 },
    status: { enum: ['ok', 'error'] },
    message: str(1024)
  }
}

export const deviceError = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { anyOf: [str(64), { type: 'integer' }] }, message: str(1024) }
}

export const anyObject = { type: 'object' }

export const relayState = {
  type: 'object',
  required: ['channels'],
  properties: {
    channels: {
      type: 'object',
      propertyNames: { pattern: '^[1-9][0-9]{0,2}$' },
      additionalProperties: { type: 'boolean' }
    }
  }
}

export const canData = {
  type: 'object',
  required: ['frames'],
  properties: {
    frames: {
      type: 'array',
      maxItems: 256,
      items: {
        type: 'object',
        required: ['id', 'data'],
        properties: {
          id: { type: 'integer', minimum: 0, maximum: 0x1FFFFFFF },
          data: { type: 'string', pattern: '^([0-9A-Fa-f]{2}){0,64}$' }
        }
      }
    }
  }
}

export const relaySet = {
  type: 'object',
  required: ['channel', 'action'],
  properties: {
    channel: { type: 'integer', minimum: 1 },
    action: { enum: ['on', 'off', 'toggle', 'pulse'] },
    duration_ms: { type: 'integer', minimum: 1 }
  }
}

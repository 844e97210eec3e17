import { Ajv, type ValidateFunction } from 'ajv'
import type { TopicFamily } from './topics.js'

/**
 * The JSON Schema of every payload a client may send (SPEC §3), per topic family, next to the topic table.
 * Compiled once at import. Families without an entry are only size-checked.
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
const telemetry = {
  type: 'object',
  minProperties: 1,
  maxProperties: 256,
  properties: { ts: { anyOf: [{ type: 'number' }, str(64)] } },
  additionalProperties: reading
}

export const payloadSchemas: Partial<Record<TopicFamily, object>> = {
  deviceAnnounce: {
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
  },
  deviceStatus: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { enum: ['online', 'offline'] },
      uptime: { type: 'number', minimum: 0 },
      rssi: { type: 'number' },
      free_heap: { type: 'number', minimum: 0 },
      config_version: { type: 'integer', minimum: 0, maximum: 2147483647 }
    }
  },
  deviceTelemetry: telemetry,
  telemetryData: telemetry,
  deviceResponse: {
    type: 'object',
    required: ['command_id', 'status'],
    properties: {
      command_id: { type: 'string', minLength: 1, maxLength: 36 },
      status: { enum: ['ok', 'error'] },
      message: str(1024)
    }
  },
  deviceError: {
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { anyOf: [str(64), { type: 'integer' }] }, message: str(1024) }
  },
  deviceConfigRequest: { type: 'object' },
  relayState: {
    type: 'object',
    required: ['channels'],
    properties: {
      channels: {
        type: 'object',
        propertyNames: { pattern: '^[1-9][0-9]{0,2}$' },
        additionalProperties: { type: 'boolean' }
      }
    }
  },
  canData: {
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
            id: { type: 'integer', minimum: 0, maximum: 0x1fffffff },
            data: { type: 'string', pattern: '^([0-9A-Fa-f]{2}){0,64}$' }
          }
        }
      }
    }
  },
  relaySet: {
    type: 'object',
    required: ['channel', 'action'],
    properties: {
      channel: { type: 'integer', minimum: 1 },
      action: { enum: ['on', 'off', 'toggle', 'pulse'] },
      duration_ms: { type: 'integer', minimum: 1 }
    }
  },
  macroRun: { type: 'object' }
  // emergencyStop / emergencyReset: deliberately no schema (size-checked only). An allowed stop must never be
  // dropped over its payload; the emergency interceptor reads `reason` leniently and broadcasts its own canonical
  // stop/reset, so the requester's raw payload reaches nobody anyway.
}

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true })
const validators = new Map<TopicFamily, ValidateFunction>(
  Object.entries(payloadSchemas).map(([family, schema]) => [family as TopicFamily, ajv.compile(schema)])
)

/** checkPayload's answer for a payload that does not parse (the payload guard counts these apart). */
export const NOT_JSON = 'payload is not valid JSON'

/**
 * undefined when the payload is valid for its family, else why not (one short line). A valid payload's JSON value
 * is kept in `into.body` (the publish pipeline's PublishInfo), so the steps after the check do not parse it again.
 */
export function checkPayload (family: TopicFamily, payload: Buffer, into?: { body: unknown }): string | undefined {
  const validate = validators.get(family)
  if (validate === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch {
    return NOT_JSON
  }
  if (validate(value)) {
    if (into !== undefined) into.body = value
    return undefined
  }
  const e = validate.errors?.[0]
  return `payload ${e?.instancePath === '' ? '' : e?.instancePath + ' '}${e?.message ?? 'is invalid'}`.replace(
    /\s+/g,
    ' '
  )
}

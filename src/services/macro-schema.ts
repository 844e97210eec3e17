import { Ajv } from 'ajv'
import type { MacroAction, MacroActionType } from '../../entities/index.js'

/**
 * THE schema of a macro action (SPEC §4 Macros): what the engine runs (services/macros.ts checks every stored action
 * against it before its step) and what the API accepts (api/routes/macros.ts embeds it in its body schema), so the
 * two cannot disagree. Params use the engine's snake_case names. Plain JSON Schema (2020-12 keywords), readable by
 * ajv in strict mode and by OpenAPI 3.1.
 */
const deviceUuid = { type: 'string', minLength: 1, maxLength: 64 }
const DAY_MS = 86_400_000

const paramsByType: Record<MacroActionType, Record<string, unknown>> = {
  relay: {
    type: 'object',
    additionalProperties: false,
    required: ['device_uuid', 'channel', 'action'],
    properties: {
      device_uuid: deviceUuid,
      channel: { type: 'integer', minimum: 0, maximum: 255 },
      action: { type: 'string', enum: ['on', 'off', 'toggle', 'pulse'] },
      duration_ms: {
        type: 'integer',
        minimum: 1,
        maximum: DAY_MS,
        description: 'pulse length, or hold of a momentary channel'
      }
    }
  },
  command: {
    type: 'object',
    additionalProperties: false,
    required: ['device_uuid', 'command'],
    properties: {
      device_uuid: deviceUuid,
      command: { type: 'string', minLength: 1, maxLength: 64 },
      params: { type: 'object' }
    }
  },
  mqtt_publish: {
    type: 'object',
    additionalProperties: false,
    required: ['topic'],
    properties: {
      topic: { type: 'string', minLength: 1, maxLength: 256, description: 'must match macros.publishTopics' },
      payload: { description: 'any JSON; default {}' },
      retain: { type: 'boolean' }
    }
  },
  delay: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    properties: {
      ms: { type: 'integer', minimum: 0, maximum: DAY_MS },
      delay_ms: { type: 'integer', minimum: 0, maximum: DAY_MS }
    }
  }
}

export const macroActionTypes = Object.keys(paramsByType) as MacroActionType[]

/** `{relay: <channel id>, is: on|off}` or `{telemetry: {uuid, key}, op, value}`; null or absent: always run. */
export const macroConditionSchema = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['relay', 'is'],
      properties: { relay: { type: 'integer', minimum: 1 }, is: { enum: ['on', 'off', true, false] } }
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['telemetry', 'op', 'value'],
      properties: {
        telemetry: {
          type: 'object',
          additionalProperties: false,
          required: ['uuid', 'key'],
          properties: { uuid: deviceUuid, key: { type: 'string', minLength: 1, maxLength: 64 } }
        },
        op: { type: 'string', enum: ['<', '<=', '>', '>=', '==', '!='] },
        value: { type: 'number' }
      }
    },
    { type: 'null' }
  ]
}

/** One action as the API reads and writes it: `{type, params, condition?}`. */
export const macroActionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'params'],
  properties: {
    type: { type: 'string', enum: macroActionTypes },
    params: { type: 'object' },
    condition: macroConditionSchema
  },
  allOf: macroActionTypes.map(type => ({
    if: { type: 'object', properties: { type: { const: type } } },
    then: { type: 'object', properties: { params: paramsByType[type] } }
  }))
}

const validate = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(macroActionSchema)

/** Throws when a stored action is not one the engine can run (the run then fails at that step, saying why). */
export function assertMacroAction (action: Pick<MacroAction, 'actionType' | 'params' | 'condition'>): void {
  if (validate({ type: action.actionType, params: action.params, condition: action.condition })) return
  const e = validate.errors?.[0]
  throw new Error(
    `invalid action: ${e?.instancePath === '' ? '' : `${e?.instancePath ?? ''} `}${e?.message ?? 'does not match the ' +
      'action schema'}`
  )
}

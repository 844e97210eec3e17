// The schemas and JSON views of /relays (routes in relays.ts); screens reuse the command answer.
import type { RelayChannel } from '../../../entities/index.js'
import { type ErrorCode } from '../../errors.js'
import type { ChannelFields } from '../../persistence/repositories/relays.js'
import { type Schema } from '../route-table.js'
import { nullable, record } from '../schemas.js'

export const functions = ['toggle', 'momentary', 'pulse']
export const ms = { type: 'integer', minimum: 1, maximum: 86_400_000 }

/** The relay JSON a browser panel depends on: every field always present. */
export const relaySchema = record({
  id: { type: 'integer' },
  deviceUuid: { type: 'string' },
  deviceName: { type: 'string' },
  channelNumber: { type: 'integer' },
  name: { type: 'string' },
  function: { type: 'string', enum: functions },
  mutexGroup: { type: ['string', 'null'] },
  maxOnMs: { type: ['integer', 'null'] },
  pulseMs: { type: ['integer', 'null'] },
  defaultState: { type: 'boolean' },
  currentState: { type: ['boolean', 'null'], description: 'as the board last reported it; null until it does' },
  desiredState: { type: ['boolean', 'null'], description: 'as the gateway last commanded it' },
  enabled: { type: 'boolean' },
  failSafe: {
    type: 'string',
    enum: ['off', 'hold'],
    description: 'when the gateway\'s heartbeat stops, the board turns the channel off (off) or keeps it (hold)'
  }
})

export function relayJson (c: RelayChannel): Record<string, unknown> {
  return {
    id: c.id,
    deviceUuid: c.device?.uuid ?? '',
    deviceName: c.device?.name ?? '',
    channelNumber: c.channelNumber,
    name: c.name,
    function: c.function,
    mutexGroup: c.mutexGroup,
    maxOnMs: c.maxOnMs,
    pulseMs: c.pulseMs,
    defaultState: c.defaultState,
    currentState: c.currentState,
    desiredState: c.desiredState,
    enabled: c.enabled,
    failSafe: c.failSafe
  }
}

export const channelProps = {
  channelNumber: { type: 'integer', minimum: 0, maximum: 255 },
  name: { type: 'string', minLength: 1, maxLength: 64 },
  function: { type: 'string', enum: functions },
  mutexGroup: {
    ...nullable({ type: 'string', minLength: 1, maxLength: 64 }),
    description: 'channels of a group are never on together'
  },
  maxOnMs: { ...nullable(ms), description: 'turned off by the gateway after this long on' },
  pulseMs: { ...nullable(ms), description: 'pulse length (default relays.defaultPulseMs)' },
  defaultState: { type: 'boolean' },
  enabled: { type: 'boolean' },
  failSafe: {
    type: 'string',
    enum: ['off', 'hold'],
    description:
      'off: the board turns the channel off by itself when it misses gateway.deadmanMisses heartbeats (default hold)'
  }
}
export const createBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['deviceUuid', 'channelNumber', 'name', 'function'],
  properties: { deviceUuid: { type: 'string', minLength: 1, maxLength: 64 }, ...channelProps }
}
export type CreateBody = Pick<ChannelFields, 'channelNumber' | 'name' | 'function'> &
  Partial<ChannelFields> & { deviceUuid: string }

export const commandResult = {
  type: 'object',
  required: ['relayId', 'commandId', 'action', 'status', 'turnedOff'],
  properties: {
    relayId: { type: 'integer' },
    commandId: { type: 'string', description: 'the command\'s id (GET /commands/:id follows it)' },
    action: {
      type: 'string',
      enum: ['on', 'off', 'pulse'],
      description: 'what was sent (a toggle resolves to on or off)'
    },
    status: {
      type: 'string',
      enum: ['pending', 'sent', 'acked', 'failed', 'timeout', 'expired'],
      description: 'now: pending while the board is offline, else sent'
    },
    turnedOff: {
      type: 'array',
      items: { type: 'integer' },
      description: 'channels of the mutex group turned off (acknowledged) first'
    },
    holdMs: { type: 'integer', description: 'holds: released by the gateway after this long' }
  }
}
export const durationBody: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    durationMs: {
      ...ms,
      description: 'pulse length, or how long a momentary channel is held (default relays.defaultHoldMs)'
    }
  }
}
export const controlErrors: ErrorCode[] = [
  'GW_ERR_RELAY_NOT_FOUND',
  'GW_ERR_RELAY_DISABLED',
  'GW_ERR_RELAY_MUTEX_FAILED',
  'GW_ERR_RELAY_BAD_REQUEST',
  'GW_ERR_EMERGENCY_ACTIVE'
]

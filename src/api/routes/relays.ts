import { userActor } from '../../auth/actor.js'
import type { RelayChannel } from '../../../entities/index.js'
import { GatewayError, type ErrorCode } from '../../errors.js'
import type { ChannelFields } from '../../persistence/repositories/relays.js'
import type { RelayResult } from '../../services/relays.js'
import {
  pageOf,
  pageQuery,
  route,
  type ApiDeps,
  type ApiRequest,
  type Page,
  type RouteSpec,
  type Schema
} from '../route-table.js'
import { fieldError, idParams, idSchema, nullable, patchOf, record } from '../schemas.js'

const functions = ['toggle', 'momentary', 'pulse']
const ms = { type: 'integer', minimum: 1, maximum: 86_400_000 }

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

const channelProps = {
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
const createBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['deviceUuid', 'channelNumber', 'name', 'function'],
  properties: { deviceUuid: { type: 'string', minLength: 1, maxLength: 64 }, ...channelProps }
}
type CreateBody = Pick<ChannelFields, 'channelNumber' | 'name' | 'function'> &
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
const durationBody: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    durationMs: {
      ...ms,
      description: 'pulse length, or how long a momentary channel is held (default relays.defaultHoldMs)'
    }
  }
}
const controlErrors: ErrorCode[] = [
  'GW_ERR_RELAY_NOT_FOUND',
  'GW_ERR_RELAY_DISABLED',
  'GW_ERR_RELAY_MUTEX_FAILED',
  'GW_ERR_RELAY_BAD_REQUEST',
  'GW_ERR_EMERGENCY_ACTIVE'
]

async function found (deps: ApiDeps, id: number): Promise<RelayChannel> {
  const c = await deps.repos.relays.withDevice(id)
  if (c === undefined) throw new GatewayError('GW_ERR_RELAY_NOT_FOUND', `no relay channel ${id}`)
  return c
}

/** The board's list of fail_safe: off channels lives in its retained device config: re-published when it changes. */
async function announceFailSafe (deps: ApiDeps, uuid: string): Promise<void> {
  await deps.deviceConfig.request(uuid)
}

/** The service refuses pulses longer than max_on_ms; a configuration that asks for one is refused up front. */
function checkLimits (f: Partial<ChannelFields>): void {
  if (f.pulseMs != null && f.maxOnMs != null && f.pulseMs > f.maxOnMs) {
    throw fieldError('/pulseMs', 'must not exceed maxOnMs')
  }
}

export async function commandAnswer (
  deps: ApiDeps,
  channelId: number,
  r: RelayResult
): Promise<Record<string, unknown>> {
  const status = await deps.commands.statusOf(r.commandId) ?? 'pending'
  return {
    relayId: channelId,
    commandId: r.commandId,
    action: r.action,
    status,
    turnedOff: r.turnedOff,
    ...(r.holdMs === undefined ? {} : { holdMs: r.holdMs })
  }
}

/** One control route: the request goes to the RelayService (emergency lockout, mutex, limits are its rules). */
function control (action: 'on' | 'off' | 'toggle' | 'pulse', summary: string): RouteSpec {
  return route<{ id: number }, Record<string, never>, { durationMs?: number }>({
    id: `relays.${action}`,
    method: 'POST',
    path: `/relays/:id/${action}`,
    role: 'operator',
    tag: 'relays',
    summary,
    params: idParams('id'),
    ...(action === 'off' ? {} : { body: durationBody }),
    response: commandResult,
    errors: action === 'off' ? ['GW_ERR_RELAY_NOT_FOUND', 'GW_ERR_RELAY_DISABLED'] : controlErrors,
    handler: async (req, deps) => {
      const ch = await found(deps, req.params.id)
      const r = await deps.relays.setChannel({
        deviceUuid: ch.device?.uuid ?? '',
        channel: ch.channelNumber,
        action,
        durationMs: req.body?.durationMs,
        user: req.user.username,
        source: 'api',
        actor: userActor(req.user, req.ip)
      })
      return await commandAnswer(deps, ch.id, r)
    }
  })
}

async function list (
  req: ApiRequest<unknown, Page & { deviceUuid?: string }, undefined>,
  deps: ApiDeps
): Promise<unknown> {
  const { rows, total } = await deps.repos.relays.list(req.query, req.query.deviceUuid)
  return { items: rows.map(relayJson), total, limit: req.query.limit, offset: req.query.offset }
}

/**
 * `/relays`: relay channels (admin configures them; viewers read them) and their control (operators). Control
 * calls the same RelayService as `autocore/relays/{uuid}/set` with the API user, so the emergency lockout (423),
 * mutex groups and limits hold exactly as over MQTT. The answer comes once the command is out (or queued for an
 * offline board); the board's confirmed state shows in `currentState`.
 */
export const relaysRoutes: RouteSpec[] = [
  route<unknown, Page & { deviceUuid?: string }>({
    id: 'relays.list',
    method: 'GET',
    path: '/relays',
    role: 'viewer',
    tag: 'relays',
    summary: 'Relay channels, by board and channel number',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...pageQuery,
        deviceUuid: { type: 'string', minLength: 1, maxLength: 64, description: 'only this board\'s channels' }
      }
    },
    response: pageOf(relaySchema),
    handler: list
  }),
  route<{ id: number }>({
    id: 'relays.get',
    method: 'GET',
    path: '/relays/:id',
    role: 'viewer',
    tag: 'relays',
    summary: 'One relay channel',
    params: idParams('id'),
    response: relaySchema,
    errors: ['GW_ERR_RELAY_NOT_FOUND'],
    handler: async (req, deps) => relayJson(await found(deps, req.params.id))
  }),
  route<unknown, unknown, CreateBody>({
    id: 'relays.create',
    method: 'POST',
    path: '/relays',
    role: 'admin',
    tag: 'relays',
    summary: 'Add a relay channel to a board',
    body: createBody,
    status: 201,
    response: relaySchema,
    errors: ['GW_ERR_DEVICE_NOT_FOUND', 'GW_ERR_RELAY_EXISTS'],
    handler: async (req, deps) => {
      const { deviceUuid, ...b } = req.body
      checkLimits(b)
      const device = await deps.repos.devices.byUuid(deviceUuid)
      if (device === undefined) throw new GatewayError('GW_ERR_DEVICE_NOT_FOUND', `no device ${deviceUuid}`)
      const fields: ChannelFields = {
        mutexGroup: null,
        maxOnMs: null,
        pulseMs: null,
        defaultState: false,
        enabled: true,
        failSafe: 'hold',
        ...b
      }
      const id = await deps.repos.relays.create(device.id, fields, deps.clock.now())
      if (id === undefined) {
        throw new GatewayError('GW_ERR_RELAY_EXISTS', `${deviceUuid} already has channel ${b.channelNumber}`)
      }
      if (fields.failSafe === 'off') await announceFailSafe(deps, deviceUuid)
      return relayJson(await found(deps, id))
    }
  }),
  route<{ id: number }, unknown, Partial<ChannelFields>>({
    id: 'relays.update',
    method: 'PATCH',
    path: '/relays/:id',
    role: 'admin',
    tag: 'relays',
    summary: 'Change a relay channel (takes effect at its next request)',
    params: idParams('id'),
    body: patchOf({ ...createBody, properties: channelProps }),
    response: relaySchema,
    errors: ['GW_ERR_RELAY_NOT_FOUND', 'GW_ERR_RELAY_EXISTS'],
    handler: async (req, deps) => {
      const before = await found(deps, req.params.id)
      checkLimits({ ...before, ...req.body })
      if (!await deps.repos.relays.update(before.id, req.body, deps.clock.now())) {
        throw new GatewayError(
          'GW_ERR_RELAY_EXISTS',
          `${before.device?.uuid ?? ''} already has channel ${String(req.body.channelNumber)}`
        )
      }
      const after = await found(deps, before.id)
      if (
        after.failSafe !== before.failSafe ||
        (after.failSafe === 'off' && after.channelNumber !== before.channelNumber)
      ) { await announceFailSafe(deps, before.device?.uuid ?? '') }
      return relayJson(after)
    }
  }),
  route<{ id: number }>({
    id: 'relays.delete',
    method: 'DELETE',
    path: '/relays/:id',
    role: 'admin',
    tag: 'relays',
    summary: 'Remove a relay channel (screen items bound to it stay, unbound)',
    params: idParams('id'),
    status: 204,
    errors: ['GW_ERR_RELAY_NOT_FOUND'],
    handler: async (req, deps) => {
      const before = await deps.repos.relays.withDevice(req.params.id)
      if (!(await deps.repos.relays.delete(req.params.id))) {
        throw new GatewayError('GW_ERR_RELAY_NOT_FOUND', `no relay channel ${req.params.id}`)
      }
      if (before?.failSafe === 'off') await announceFailSafe(deps, before.device?.uuid ?? '')
    }
  }),
  control('on', 'Turn on (a momentary channel: held for durationMs, then released by the gateway)'),
  control('off', 'Turn off'),
  control('toggle', 'Turn on if it is off, off if it is on (by the board\'s reported state)'),
  control('pulse', 'Pulse: on for durationMs (default the channel\'s pulseMs), then off by the board'),
  route<unknown, unknown, { relayId: number, durationMs?: number }>({
    id: 'controls.hold',
    method: 'POST',
    path: '/controls/hold',
    role: 'operator',
    tag: 'relays',
    summary:
      'Hold a channel on for durationMs (default relays.defaultHoldMs, at most relays.maxHoldMs); the gateway ' +
        'releases it',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['relayId'],
      properties: { relayId: idSchema, durationMs: ms }
    },
    response: commandResult,
    errors: controlErrors,
    handler: async (req, deps) => {
      const ch = await found(deps, req.body.relayId)
      const r = await deps.relays.hold({
        deviceUuid: ch.device?.uuid ?? '',
        channel: ch.channelNumber,
        durationMs: req.body.durationMs,
        user: req.user.username,
        source: 'api',
        actor: userActor(req.user, req.ip)
      })
      return await commandAnswer(deps, ch.id, r)
    }
  })
]

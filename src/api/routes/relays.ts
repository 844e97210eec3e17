import { userActor } from '../../auth/actor.js'
import type { RelayChannel } from '../../../entities/index.js'
import { GatewayError } from '../../errors.js'
import type { ChannelFields } from '../../persistence/repositories/relays.js'
import type { RelayResult } from '../../services/relays.js'
import {
  creates,
  getById, pageOf, pageQuery, route, type ApiDeps, type ApiRequest, type Page, type RouteSpec
} from '../route-table.js'
import { fieldError, idParams, idSchema, patchOf } from '../schemas.js'
import {
  ms,
  relaySchema,
  relayJson,
  channelProps,
  createBody,
  commandResult,
  durationBody,
  controlErrors,
  type CreateBody
} from './relay-schemas.js'

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
  getById({
    id: 'relays.get',
    path: '/relays/:id',
    tag: 'relays',
    summary: 'One relay channel',
    response: relaySchema,
    errors: ['GW_ERR_RELAY_NOT_FOUND'],
    load: found,
    view: relayJson
  }),
  route<unknown, unknown, CreateBody>({
    ...creates,
    id: 'relays.create',
    path: '/relays',
    tag: 'relays',
    summary: 'Add a relay channel to a board',
    body: createBody,
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
      // Screens name their channels (board, number, name, function).
      await deps.screens.changed()
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
      await deps.screens.changed()
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

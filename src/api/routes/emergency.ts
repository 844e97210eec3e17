import { userActor } from '../../auth/actor.js'
import type { EmergencyRecord } from '../../services/emergency-latch.js'
import { route, type RouteSpec } from '../route-table.js'

/** The same shape as the retained `autocore/emergency/state`. */
const stateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['active', 'reason', 'source', 'since'],
  properties: {
    active: { type: 'boolean' },
    reason: { type: ['string', 'null'] },
    source: { type: ['string', 'null'], description: 'who triggered it: user:<name>, device:<uuid>, gateway' },
    since: { type: ['string', 'null'], format: 'date-time' },
    rollCall: {
      type: 'object',
      additionalProperties: { type: 'string', enum: ['pending', 'acked', 'failed', 'timeout', 'expired'] },
      description:
        'GET only, while active: per relay board, did it acknowledge its off-commands (a board that reconnects is ' +
          'told again)'
    }
  }
}

/** As EmergencyService publishes it: an inactive state carries no reason, source or time. */
function stateOf (r: EmergencyRecord): Record<string, unknown> {
  return r.active
    ? { active: true, reason: r.reason, source: r.source, since: r.since }
    : { active: false, reason: null, source: null, since: null }
}

/**
 * `/emergency`: the state, stop (operator) and reset (admin), through the EmergencyService with the API user as
 * the actor, exactly as `autocore/emergency/stop|reset` from a panel: the service decides who may (SPEC §3), persists,
 * broadcasts, turns every relay off, cancels macros and logs. Stop while active and reset while inactive change
 * nothing and answer the state.
 */
export const emergencyRoutes: RouteSpec[] = [
  route({
    id: 'emergency.get',
    method: 'GET',
    path: '/emergency',
    role: 'viewer',
    tag: 'emergency',
    summary: 'The emergency state (as retained on autocore/emergency/state)',
    response: stateSchema,
    handler: async (_req, { emergency }) => {
      const r = emergency.record
      return r.active ? { ...stateOf(r), rollCall: { ...r.roll_call } } : stateOf(r)
    }
  }),
  route<unknown, unknown, { reason?: string }>({
    id: 'emergency.stop',
    method: 'POST',
    path: '/emergency/stop',
    role: 'operator',
    tag: 'emergency',
    summary: 'Emergency stop: every relay off, macros cancelled, relay-on and macros refused until reset',
    body: {
      type: 'object',
      additionalProperties: false,
      properties: { reason: { type: 'string', minLength: 1, maxLength: 200 } }
    },
    response: stateSchema,
    errors: ['GW_ERR_EMERGENCY_FORBIDDEN'],
    handler: async (req, { emergency }) =>
      stateOf(await emergency.trigger({ reason: req.body.reason, actor: userActor(req.user, req.ip) }))
  }),
  route({
    id: 'emergency.reset',
    method: 'POST',
    path: '/emergency/reset',
    role: 'admin',
    tag: 'emergency',
    summary: 'End the emergency stop (logged with the user)',
    response: stateSchema,
    errors: ['GW_ERR_EMERGENCY_FORBIDDEN'],
    handler: async (req, { emergency }) => stateOf(await emergency.reset({ actor: userActor(req.user, req.ip) }))
  })
]

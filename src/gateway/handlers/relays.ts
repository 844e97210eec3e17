import type { Services } from '../../services/index.js'
import { GatewayError, isGatewayError } from '../../errors.js'
import { ControlJournal } from '../../services/journal.js'
import type { RelayService } from '../../services/relays.js'
import { actorOf, mayControl, sourceOf, usernameOf } from '../actor.js'
import type { Handler } from '../router.js'
import type { RelayAction } from '../topics.js'
import { jsonObject } from './control-payload.js'

const actions = new Set<RelayAction>(['on', 'off', 'toggle', 'pulse'])

/**
 * `autocore/relays/{uuid}/set` from a panel: `{channel, action, duration_ms?, command_id?}`. A refusal (emergency,
 * unknown channel, mutex failure, limits) is published as a `relay_refused` event with its error code.
 */
export function relaySetHandler (ctx: Services, relays: RelayService): Handler {
  const journal = new ControlJournal(ctx.repos.journal, ctx.clock, ctx.log)
  return async msg => {
    const actor = actorOf(ctx, msg.clientId)
    const body = jsonObject(msg) ?? {}
    const target = `${msg.params.uuid}/${String(body.channel)}`
    // Refused before the relay service saw it: journaled here (the service journals what it refuses itself).
    const refuseEarly = async (
      code: 'GW_ERR_CONTROL_FORBIDDEN' | 'GW_ERR_RELAY_BAD_REQUEST',
      message: string
    ): Promise<void> => {
      await journal.refused(
        actor,
        { action: `relay.${String(body.action).slice(0, 16)}`, target: target.slice(0, 128) },
        new GatewayError(code, message)
      )
      await refuse(code, message)
    }
    const refuse = async (code: string, message: string): Promise<void> => {
      await ctx.events.log({
        level: 'warning',
        type: 'relay_refused',
        source: sourceOf(actor),
        action: String(body.action),
        target,
        username: usernameOf(actor),
        payload: { code, message }
      })
    }
    if (!mayControl(actor)) return await refuseEarly('GW_ERR_CONTROL_FORBIDDEN', 'not allowed to control relays')
    const channel = body.channel
    const action = body.action as RelayAction
    const durationMs = body.duration_ms
    if (typeof channel !== 'number' || !Number.isInteger(channel) || !actions.has(action) ||
      (durationMs !== undefined && (typeof durationMs !== 'number' || durationMs <= 0))) {
      return await refuseEarly(
        'GW_ERR_RELAY_BAD_REQUEST',
        'expected {channel: integer, action: on|off|toggle|pulse, duration_ms?: > 0}'
      )
    }
    try {
      await relays.setChannel({
        deviceUuid: msg.params.uuid,
        channel,
        action,
        durationMs: durationMs as number | undefined,
        user: usernameOf(actor),
        source: 'mqtt',
        clientId: msg.clientId,
        actor,
        commandId: typeof body.command_id === 'string' ? body.command_id : undefined
      })
    } catch (err) {
      if (!isGatewayError(err)) throw err
      await refuse(err.code, err.message)
    }
  }
}

/** `autocore/relays/{uuid}/state`: `{channels: {"1": true, ...}}`, the board's confirmed state. */
export function relayStateHandler (relays: RelayService): Handler {
  return async msg => {
    const channels = jsonObject(msg)?.channels
    if (typeof channels !== 'object' || channels === null || Array.isArray(channels)) return
    await relays.reportState(msg.params.uuid, channels as Record<string, boolean>)
  }
}

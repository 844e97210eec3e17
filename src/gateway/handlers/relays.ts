import type { InboundMessage } from '../../broker/pipeline.js'
import type { Services } from '../../services/index.js'
import { GatewayError, isGatewayError } from '../../errors.js'
import { ControlJournal } from '../../services/journal.js'
import type { RelayService } from '../../services/relays.js'
import { mayControl, sourceOf, usernameOf } from '../../auth/actor.js'
import { actorOf } from '../sender.js'

/**
 * `autocore/relays/{uuid}/set` from a panel: `{channel, action, duration_ms?, command_id?}` (its schema checked by
 * the payload guard). A refusal (emergency, unknown channel, mutex failure, limits) is published as a
 * `relay_refused` event with its error code.
 */
export function relaySetHandler (ctx: Services, relays: RelayService):
(msg: InboundMessage<'relaySet'>) => Promise<void> {
  const journal = new ControlJournal(ctx.repos.journal, ctx.clock, ctx.log)
  return async msg => {
    const actor = actorOf(msg)
    const { body } = msg
    const target = `${msg.params.uuid}/${String(body.channel)}`
    const refuse = async (code: string, message: string): Promise<void> => {
      const username = usernameOf(actor)
      const payload = { code, message }
      const event = { level: 'warning', type: 'relay_refused', action: body.action, target } as const
      await ctx.events.log({ ...event, source: sourceOf(actor), username, payload })
    }
    if (!mayControl(actor)) {
      // Refused before the relay service saw it: journaled here (the service journals what it refuses itself).
      const err = new GatewayError('GW_ERR_CONTROL_FORBIDDEN', 'not allowed to control relays')
      await journal.refused(actor, { action: `relay.${body.action.slice(0, 16)}`, target: target.slice(0, 128) }, err)
      return await refuse(err.code, err.message)
    }
    try {
      await relays.setChannel({
        deviceUuid: msg.params.uuid,
        channel: body.channel,
        action: body.action,
        durationMs: body.duration_ms,
        user: usernameOf(actor),
        source: 'mqtt',
        clientId: msg.client?.id,
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
export function relayStateHandler (relays: RelayService): (msg: InboundMessage<'relayState'>) => Promise<void> {
  return async msg => { await relays.reportState(msg.params.uuid, msg.body.channels) }
}

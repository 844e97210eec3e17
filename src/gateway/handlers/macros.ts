import type { InboundMessage } from '../../broker/pipeline.js'
import type { Services } from '../../services/index.js'
import { GatewayError, isGatewayError } from '../../errors.js'
import { ControlJournal } from '../../services/journal.js'
import type { MacroService } from '../../services/macros.js'
import { mayControl, sourceOf, usernameOf } from '../../auth/actor.js'
import { actorOf } from '../sender.js'

/** `autocore/macros/{id}/run`: starts a run; a refusal is published as a `macro_refused` event with its reason. */
export function macroRunHandler (ctx: Services, macros: MacroService):
(msg: InboundMessage<'macroRun'>) => Promise<void> {
  const journal = new ControlJournal(ctx.repos.journal, ctx.clock, ctx.log)
  return async msg => {
    const actor = actorOf(msg)
    const { id } = msg.params
    const macroId = Number(id)
    const refuse = async (code: string, message: string): Promise<void> => {
      const username = usernameOf(actor)
      const payload = { code, message }
      const event = { level: 'warning', type: 'macro_refused', action: 'run', target: `macro:${id}` } as const
      await ctx.events.log({ ...event, source: sourceOf(actor), username, payload })
    }
    type Code = 'GW_ERR_CONTROL_FORBIDDEN' | 'GW_ERR_MACRO_NOT_FOUND'
    const refuseEarly = async (code: Code, message: string): Promise<void> => {
      const err = new GatewayError(code, message)
      await journal.refused(actor, { action: 'macro.run', target: `macro:${id}`.slice(0, 128) }, err)
      await refuse(code, message)
    }
    if (!mayControl(actor)) return await refuseEarly('GW_ERR_CONTROL_FORBIDDEN', 'not allowed to run macros')
    if (!Number.isInteger(macroId) || macroId <= 0) return await refuseEarly('GW_ERR_MACRO_NOT_FOUND', `no macro ${id}`)
    try {
      await macros.run({ macroId, user: usernameOf(actor), source: 'mqtt', actor })
    } catch (err) {
      if (!isGatewayError(err)) throw err
      await refuse(err.code, err.message)
    }
  }
}

import type { Services } from '../../services/index.js'
import { GatewayError, isGatewayError } from '../../errors.js'
import { ControlJournal } from '../../services/journal.js'
import type { MacroService } from '../../services/macros.js'
import { actorOf, mayControl, sourceOf, usernameOf } from '../actor.js'
import type { Handler } from '../router.js'

/** `autocore/macros/{id}/run`: starts a run; a refusal is published as a `macro_refused` event with its reason. */
export function macroRunHandler (ctx: Services, macros: MacroService): Handler {
  const journal = new ControlJournal(ctx.repos.journal, ctx.clock, ctx.log)
  return async msg => {
    const actor = actorOf(ctx, msg.clientId)
    const macroId = Number(msg.params.id)
    const refuse = async (code: string, message: string): Promise<void> => {
      await ctx.events.log({
        level: 'warning',
        type: 'macro_refused',
        source: sourceOf(actor),
        action: 'run',
        target: `macro:${msg.params.id}`,
        username: usernameOf(actor),
        payload: { code, message }
      })
    }
    const refuseEarly = async (
      code: 'GW_ERR_CONTROL_FORBIDDEN' | 'GW_ERR_MACRO_NOT_FOUND',
      message: string
    ): Promise<void> => {
      await journal.refused(
        actor,
        { action: 'macro.run', target: `macro:${msg.params.id}`.slice(0, 128) },
        new GatewayError(code, message)
      )
      await refuse(code, message)
    }
    if (!mayControl(actor)) return await refuseEarly('GW_ERR_CONTROL_FORBIDDEN', 'not allowed to run macros')
    if (!Number.isInteger(macroId) || macroId <= 0) { return await refuseEarly('GW_ERR_MACRO_NOT_FOUND', `no macro ${msg.params.id}`) }
    try {
      await macros.run({ macroId, user: usernameOf(actor), source: 'mqtt', actor })
    } catch (err) {
      if (!isGatewayError(err)) throw err
      await refuse(err.code, err.message)
    }
  }
}

import type { AppContext } from '../../context.js'
import { isGatewayError } from '../../errors.js'
import type { MacroService } from '../../services/macros.js'
import { actorOf, mayControl, sourceOf, usernameOf } from '../actor.js'
import type { Handler } from '../router.js'

/** `autocore/macros/{id}/run`: starts a run; a refusal is published as a `macro_refused` event with its reason. */
export function macroRunHandler (ctx: AppContext, macros: MacroService): Handler {
  return async msg => {
    const actor = actorOf(ctx, msg.clientId)
    const macroId = Number(msg.params.id)
    const refuse = async (code: string, message: string): Promise<void> => {
      await ctx.events.log({ level: 'warning', type: 'macro_refused', source: sourceOf(actor), action: 'run', target: `macro:${msg.params.id}`, username: usernameOf(actor), payload: { code, message } })
    }
    if (!mayControl(actor)) return await refuse('GW_ERR_CONTROL_FORBIDDEN', 'not allowed to run macros')
    if (!Number.isInteger(macroId) || macroId <= 0) return await refuse('GW_ERR_MACRO_NOT_FOUND', `no macro ${msg.params.id}`)
    try {
      await macros.run({ macroId, user: usernameOf(actor), source: 'mqtt' })
    } catch (err) {
      if (!isGatewayError(err)) throw err
      await refuse(err.code, err.message)
    }
  }
}

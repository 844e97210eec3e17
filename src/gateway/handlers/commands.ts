import type { CommandService } from '../../services/commands.js'
import type { Handler } from '../router.js'
import { jsonObject } from './control-payload.js'

/** `autocore/devices/{uuid}/response`: `{command_id, status: "ok"|"error", message?}` closes the command. */
export function responseHandler (commands: CommandService): Handler {
  return async msg => {
    const body = jsonObject(msg)
    if (body === undefined || typeof body.command_id !== 'string' || (body.status !== 'ok' && body.status !== 'error')) { return }
    await commands.respond(msg.params.uuid, {
      command_id: body.command_id,
      status: body.status,
      message: typeof body.message === 'string' ? body.message : undefined
    })
  }
}

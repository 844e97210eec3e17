import type { InboundMessage } from '../../broker/pipeline.js'
import type { CommandService } from '../../services/commands.js'

/** `autocore/devices/{uuid}/response`: `{command_id, status: "ok"|"error", message?}` closes the command. */
export function responseHandler (commands: CommandService): (msg: InboundMessage<'deviceResponse'>) => Promise<void> {
  return async ({ params, body }) => {
    await commands.respond(params.uuid, { command_id: body.command_id, status: body.status, message: body.message })
  }
}

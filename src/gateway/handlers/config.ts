import type { InboundMessage } from '../../broker/pipeline.js'
import type { Services } from '../../services/index.js'
import { fromItsDevice } from '../sender.js'

/**
 * `autocore/devices/{uuid}/config/request` (SPEC §3): the device's config is re-published, retained, on
 * `.../config`. Only the device itself may ask (the ACL refuses others; the gateway's own publishes have no client).
 */
export function configRequestHandler (ctx: Services): (msg: InboundMessage<'deviceConfigRequest'>) => Promise<void> {
  return async msg => {
    if (fromItsDevice(msg)) await ctx.deviceConfig.request(msg.params.uuid)
  }
}

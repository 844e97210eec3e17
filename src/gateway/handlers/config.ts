import type { Services } from '../../services/index.js'
import type { Route } from '../router.js'
import { families } from '../topics.js'

/**
 * `autocore/devices/{uuid}/config/request` (SPEC §3): the device's config is re-published, retained, on
 * `.../config`. Only the device itself may ask (the ACL refuses others; the gateway's own publishes have no client).
 */
export function configRoutes (ctx: Services): Route[] {
  return [
    {
      pattern: families.deviceConfigRequest,
      handler: async msg => {
        if (msg.clientId !== msg.params.uuid) return
        await ctx.deviceConfig.request(msg.params.uuid)
      }
    }
  ]
}

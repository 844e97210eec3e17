import type { AppContext } from '../context.js'
import type { Route } from './router.js'
import { deviceRoutes } from './handlers/devices.js'

/**
 * The routing table: every topic the gateway handles, with its handler (one file per topic family in
 * handlers/). Patterns come from topics.ts.
 */
export function routes (ctx: AppContext): Route[] {
  return [
    ...deviceRoutes(ctx)
  ]
}

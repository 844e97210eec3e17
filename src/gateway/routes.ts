import type { Services } from '../services/index.js'
import { responseHandler } from './handlers/commands.js'
import { macroRunHandler } from './handlers/macros.js'
import { relaySetHandler, relayStateHandler } from './handlers/relays.js'
import type { Route } from './router.js'
import { controlPatterns, patterns } from './topics.js'
import { canHandler } from './handlers/can.js'
import { deviceRoutes } from './handlers/devices.js'
import { configRoutes } from './handlers/config.js'

/**
 * The routing table: every topic the gateway handles, with its handler (one file per topic family in
 * handlers/). Patterns come from topics.ts.
 */
export function routes (ctx: Services, control?: Pick<Services, 'commands' | 'relays' | 'macros'>): Route[] {
  const table: Route[] = [
    ...deviceRoutes(ctx),
    { pattern: patterns.canData, handler: canHandler(ctx) },
    ...configRoutes(ctx)
  ]
  if (control !== undefined) {
    table.push(
      { pattern: controlPatterns.deviceResponse, handler: responseHandler(control.commands) },
      { pattern: controlPatterns.relayState, handler: relayStateHandler(control.relays) },
      { pattern: controlPatterns.relaySet, handler: relaySetHandler(ctx, control.relays) },
      { pattern: controlPatterns.macroRun, handler: macroRunHandler(ctx, control.macros) }
    )
  }
  return table
}

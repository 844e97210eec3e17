import { authCases } from './auth.js'
import { commandsCases } from './commands.js'
import { devicesCases } from './devices.js'
import { eventsCases } from './events.js'
import type { Cases } from './harness.js'
import { telemetryCases } from './telemetry.js'
import { usersCases } from './users.js'
import { relaysCases } from './relays.js'
import { emergencyCases } from './emergency.js'
import { macrosCases } from './macros.js'
import { screensCases } from './screens.js'
import { canSignalsCases } from './can-signals.js'
import { deviceConfigCases } from './device-config.js'
import { themeCases } from './themes.js'
import { webhooksCases } from './webhooks.js'
import { journalCases } from './journal.js'
import { systemCases } from './system.js'

/** One case per route id of src/api/routes/index.ts; one file per resource. */
export const cases: Cases = {
  ...authCases,
  ...telemetryCases,
  ...devicesCases,
  ...usersCases,
  ...eventsCases,
  ...commandsCases,
  ...relaysCases,
  ...emergencyCases,
  ...macrosCases,
  ...screensCases,
  ...canSignalsCases,
  ...deviceConfigCases,
  ...themeCases,
  ...webhooksCases,
  ...journalCases,
  ...systemCases,
  'openapi.get': {
    happy: async () => ({ check: (t, res) => t.equal(res.body.openapi, '3.1.0') })
  }
}

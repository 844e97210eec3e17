import { authCases } from './auth.js'
import { commandsCases } from './commands.js'
import { devicesCases } from './devices.js'
import { eventsCases } from './events.js'
import type { Cases } from './harness.js'
import { telemetryCases } from './telemetry.js'
import { usersCases } from './users.js'

/** One case per route id of src/api/routes/index.ts; one file per resource. */
export const cases: Cases = {
  ...authCases,
  ...telemetryCases,
  ...devicesCases,
  ...usersCases,
  ...eventsCases,
  ...commandsCases,
  'openapi.get': {
    happy: async () => ({ check: (t, res) => t.equal(res.body.openapi, '3.1.0') })
  }
}

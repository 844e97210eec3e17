import { authCases } from './auth.js'
import type { Cases } from './harness.js'
import { telemetryCases } from './telemetry.js'
import { webhooksCases } from './webhooks.js'

/** One case per route id of src/api/routes/index.ts; one file per resource. */
export const cases: Cases = {
  ...authCases,
  ...telemetryCases,
  ...webhooksCases,
  'openapi.get': {
    happy: async () => ({ check: (t, res) => t.equal(res.body.openapi, '3.1.0') })
  }
}

import { openApiDocument } from '../openapi.js'
import { route, type RouteSpec } from '../route-table.js'
import { authRoutes } from './auth.js'
import { commandsRoutes } from './commands.js'
import { devicesRoutes } from './devices.js'
import { eventsRoutes } from './events.js'
import { telemetryRoutes } from './telemetry.js'
import { usersRoutes } from './users.js'
import { relaysRoutes } from './relays.js'
import { emergencyRoutes } from './emergency.js'
import { macrosRoutes } from './macros.js'
import { screensRoutes } from './screens.js'
import { canSignalsRoutes } from './can-signals.js'
import { deviceConfigRoutes } from './device-config.js'
import { themeRoutes } from './themes.js'
import { webhooksRoutes } from './webhooks.js'
import { journalRoutes } from './journal.js'
import { systemRoutes } from './system.js'

/**
 * THE route table of /api/v1: one file per resource, each exporting its rows. Mounting, validation, roles, the
 * OpenAPI document and the generic route test (test/api/routes.test.ts) all read this list.
 */
export const resourceRoutes: readonly RouteSpec[] = [
  ...authRoutes,
  ...telemetryRoutes,
  ...devicesRoutes,
  ...usersRoutes,
  ...eventsRoutes,
  ...commandsRoutes,
  ...relaysRoutes,
  ...emergencyRoutes,
  ...macrosRoutes,
  ...screensRoutes,
  ...canSignalsRoutes,
  ...deviceConfigRoutes,
  ...themeRoutes,
  ...webhooksRoutes,
  ...journalRoutes,
  ...systemRoutes
]

const openApiRoute = route({
  id: 'openapi.get',
  method: 'GET',
  path: '/openapi.json',
  role: 'public',
  tag: 'meta',
  summary: 'This document (OpenAPI 3.1), generated from the route table',
  handler: async () => openApiDocument(apiRoutes)
})

export const apiRoutes: readonly RouteSpec[] = [...resourceRoutes, openApiRoute]

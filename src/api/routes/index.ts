import { openApiDocument } from '../openapi.js'
import { route, type RouteSpec } from '../route-table.js'
import { authRoutes } from './auth.js'
import { telemetryRoutes } from './telemetry.js'
import { webhooksRoutes } from './webhooks.js'

/**
 * THE route table of /api/v1: one file per resource, each exporting its rows. Mounting, validation, roles, the
 * OpenAPI document and the generic route test (test/api/routes.test.ts) all read this list.
 */
export const resourceRoutes: readonly RouteSpec[] = [
  ...authRoutes,
  ...telemetryRoutes,
  ...webhooksRoutes
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

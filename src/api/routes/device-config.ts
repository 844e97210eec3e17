import { userActor } from '../../auth/actor.js'
import { pageOf, pageQuery, route, type Page, type RouteSpec } from '../route-table.js'

const params = {
  type: 'object',
  required: ['uuid'],
  properties: { uuid: { type: 'string', minLength: 1, maxLength: 64 } }
}
const version = { type: 'integer', minimum: 0, description: 'devices.config_version: bumped by every change' }
const appliedVersion = {
  type: ['integer', 'null'],
  description: 'the config_version the device last reported in its status (null: none yet)'
}

const configView = {
  type: 'object',
  required: ['uuid', 'version', 'appliedVersion', 'lagging', 'config'],
  properties: {
    uuid: { type: 'string' },
    version,
    appliedVersion,
    lagging: { type: 'boolean' },
    config: { type: 'object' }
  }
}

const laggingItem = {
  type: 'object',
  required: ['uuid', 'name', 'type', 'status', 'version', 'appliedVersion', 'lastSeen'],
  properties: {
    uuid: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    version,
    appliedVersion,
    lastSeen: { type: ['string', 'null'], format: 'date-time' }
  }
}

/**
 * Device configuration (SPEC §3, §4): the config retained on `autocore/devices/{uuid}/config`, its version, and the
 * version each device reports as applied. A change goes through services/device-config.ts, which re-publishes it.
 */
export const deviceConfigRoutes: RouteSpec[] = [
  route<{ uuid: string }>({
    id: 'deviceConfig.get',
    method: 'GET',
    path: '/devices/:uuid/config',
    role: 'viewer',
    tag: 'config',
    summary: 'A device\'s config, its version, and the version the device reports as applied',
    params,
    response: configView,
    errors: ['GW_ERR_DEVICE_NOT_FOUND'],
    handler: async (req, app) => await app.deviceConfig.view(req.params.uuid)
  }),
  route<{ uuid: string }, unknown, { config: Record<string, unknown>, expectedVersion?: number }>({
    id: 'deviceConfig.update',
    method: 'PUT',
    path: '/devices/:uuid/config',
    role: 'admin',
    tag: 'config',
    summary: 'Replaces a device\'s config: bumps its version and publishes it (retained) to the device at once',
    params,
    body: {
      type: 'object',
      required: ['config'],
      additionalProperties: false,
      properties: {
        config: { type: 'object', description: 'the whole config object the device receives' },
        expectedVersion: { ...version, description: 'apply only if the stored version is this one (else 409)' }
      }
    },
    response: { type: 'object', required: ['uuid', 'version'], properties: { uuid: { type: 'string' }, version } },
    errors: ['GW_ERR_DEVICE_NOT_FOUND', 'GW_ERR_DEVICE_CONFIG_CONFLICT', 'GW_ERR_DEVICE_CONFIG_TOO_LARGE'],
    handler: async (req, app) =>
      await app.deviceConfig.update(req.params.uuid, req.body.config, {
        expectedVersion: req.body.expectedVersion,
        username: req.user.username,
        actor: userActor(req.user, req.ip)
      })
  }),
  route<unknown, Page>({
    id: 'deviceConfig.lagging',
    method: 'GET',
    path: '/config/lagging',
    role: 'viewer',
    tag: 'config',
    summary: 'Devices whose applied config version is below their config version (or unreported while it is above 0)',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(laggingItem),
    handler: async (req, app) => {
      const { items, total } = await app.deviceConfig.lagging(req.query)
      return {
        items: items.map(d => ({
          uuid: d.uuid,
          name: d.name,
          type: d.type,
          status: d.status,
          version: d.configVersion,
          appliedVersion: d.appliedConfigVersion,
          lastSeen: d.lastSeen === null ? null : new Date(d.lastSeen).toISOString()
        })),
        total,
        limit: req.query.limit,
        offset: req.query.offset
      }
    }
  })
]

import type { Device } from '../../../entities/device.js'
import type { Services } from '../../services/index.js'
import { closeSessions } from '../../broker/sessions.js'
import { DEVICE_ID, familyTopic } from '../../protocol/index.js'
import { approveDevice, deviceNotFound, provisionDevice, rotateDeviceSecret } from '../../services/provisioning.js'
import { creates, auditChange, pageQuery, pageOf, route, type Page, type RouteSpec } from '../route-table.js'
import { iso, parseTime, timeQuery } from '../time-query.js'
import {
  capabilities, common, deviceSchema, deviceView, isoTime, nameProp, typeProp, withSecret
} from './device-schemas.js'

async function found (app: Services, uuid: string): Promise<Device> {
  const d = await app.repos.devices.byUuid(uuid)
  if (d === undefined) throw deviceNotFound(uuid)
  return d
}

/**
 * Closes the device's live MQTT connection, if any (it must CONNECT again, and will be refused). `forgetWill`: as
 * if it had sent DISCONNECT, so its Last Will (a retained "offline") is discarded rather than published.
 */
function disconnect (app: Services, uuid: string, forgetWill = false): void {
  closeSessions(app.broker.aedes, app.hooks.principalOf, p => p.kind === 'device' && p.uuid === uuid, { forgetWill })
}

/** Clears what the device left retained (its status and relay state), so panels stop showing a deleted device. */
async function clearRetained (app: Services, uuid: string): Promise<void> {
  for (const family of ['deviceStatus', 'relayState'] as const) {
    await app.broker.publish(familyTopic(family, { uuid }), Buffer.alloc(0), { qos: 0, retain: true })
  }
}

/**
 * `/devices`: list, read, provision (the secret is shown once), change, delete, rotate the secret, approve, and a
 * change feed (`/devices/changes?since=`). Provisioning, rotation and approval are the CLI's functions
 * (services/provisioning.ts). Device config (`PUT /devices/:uuid/config`) lives with the config routes.
 */
export const devicesRoutes: RouteSpec[] = [
  route<unknown, { status?: Device['status'], type?: string } & Page>({
    id: 'devices.list',
    method: 'GET',
    path: '/devices',
    role: 'viewer',
    tag: 'devices',
    summary: 'Devices in provisioning order, optionally of one status and/or type',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: { status: { type: 'string', enum: ['online', 'offline', 'pending'] }, type: typeProp, ...pageQuery }
    },
    response: pageOf(deviceSchema),
    handler: async (req, app) => {
      const { status, type, limit, offset } = req.query
      const page = await app.repos.devices.page(
        { status: status === undefined ? undefined : [status], type: type === undefined ? undefined : [type] },
        { limit, offset }
      )
      return { items: page.items.map(deviceView), total: page.total, limit, offset }
    }
  }),
  route<unknown, { since?: string }>({
    id: 'devices.changes',
    method: 'GET',
    path: '/devices/changes',
    role: 'viewer',
    tag: 'devices',
    summary:
      'Devices whose row changed after `since` (oldest change first) and UUIDs deleted after it; pass `cursor` as ' +
        'the next `since`',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: { since: timeQuery('exclusive; default: the beginning (every device)') }
    },
    response: {
      type: 'object',
      required: ['items', 'deleted', 'cursor', 'until'],
      properties: {
        items: { type: 'array', items: deviceSchema },
        deleted: {
          type: 'array',
          items: { type: 'string' },
          description: 'UUIDs deleted in the interval; apply them before items'
        },
        cursor: { type: 'integer', description: 'epoch ms: the next since (every change up to it is in this answer)' },
        until: isoTime
      }
    },
    handler: async (req, app) => {
      const since = req.query.since === undefined ? -1 : parseTime('since', req.query.since)
      const until = app.repos.devices.horizon(app.clock.now())
      const { changed, deleted } =
        until > since ? await app.repos.devices.changes(since, until) : { changed: [], deleted: [] }
      const cursor = Math.max(since, until)
      return { items: changed.map(deviceView), deleted, cursor, until: iso(cursor) }
    }
  }),
  route<{ uuid: string }>({
    ...common,
    id: 'devices.get',
    method: 'GET',
    path: '/devices/:uuid',
    role: 'viewer',
    summary: 'One device',
    response: deviceSchema,
    handler: async (req, app) => deviceView(await found(app, req.params.uuid))
  }),
  route<unknown, unknown, { name: string, type: string, uuid?: string, capabilities?: string[] }>({
    ...creates,
    id: 'devices.create',
    path: '/devices',
    tag: 'devices',
    summary: 'Provision a device (as `device add`): the answer holds its MQTT secret, shown only this once',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'type'],
      properties: {
        name: nameProp,
        type: typeProp,
        uuid: { type: 'string', pattern: DEVICE_ID.source, description: 'default: a new random UUID' },
        capabilities
      }
    },
    response: withSecret,
    errors: ['GW_ERR_DEVICE_EXISTS'],
    handler: async (req, app) => {
      const { device, secret } = await provisionDevice(app.repos.devices, req.body, () => app.clock.now())
      await app.events.log({
        level: 'info',
        type: 'device_provisioned',
        source: 'api',
        action: 'provision',
        target: device.uuid,
        username: req.user.username,
        payload: { type: device.type }
      })
      return { ...deviceView(device), secret }
    }
  }),
  route<{ uuid: string }, unknown, { name?: string, type?: string, enabled?: boolean, capabilities?: string[] }>({
    ...common,
    id: 'devices.update',
    method: 'PATCH',
    path: '/devices/:uuid',
    role: 'admin',
    summary: 'Change name, type, enabled or capabilities (disabling closes its connection and refuses the next ' +
      'CONNECT)',
    body: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { name: nameProp, type: typeProp, enabled: { type: 'boolean' }, capabilities }
    },
    response: deviceSchema,
    handler: async (req, app) => {
      const { uuid } = req.params
      if (!await app.repos.devices.update(uuid, req.body, app.clock.now())) throw deviceNotFound(uuid)
      // Type and capabilities grant MQTT rights, decided at CONNECT: a change applies from the next one.
      if (req.body.enabled === false) disconnect(app, uuid)
      await auditChange(app, req, 'device_updated', uuid, { fields: Object.keys(req.body) })
      return deviceView(await found(app, uuid))
    }
  }),
  route<{ uuid: string }>({
    ...common,
    id: 'devices.delete',
    method: 'DELETE',
    path: '/devices/:uuid',
    role: 'admin',
    summary:
      'Delete a device with its telemetry, relay channels and commands; its connection is closed, its retained ' +
        'status cleared, its next CONNECT refused',
    status: 204,
    handler: async (req, app) => {
      const { uuid } = req.params
      if (!await app.repos.devices.remove(uuid, app.clock.now())) throw deviceNotFound(uuid)
      app.bus.emit('device.deleted', { uuid })
      disconnect(app, uuid, true)
      await clearRetained(app, uuid)
      // Its relay channels went with it: the screen items bound to them are unbound.
      await app.screens.changed()
      await auditChange(app, req, 'device_deleted', uuid)
    }
  }),
  route<{ uuid: string }>({
    ...common,
    id: 'devices.rotateSecret',
    method: 'POST',
    path: '/devices/:uuid/rotate-secret',
    role: 'admin',
    summary:
      "A new secret (as `device rotate-secret`), shown only in this answer; the device's live connection is closed " +
        'and the old secret refused',
    response: {
      type: 'object',
      required: ['uuid', 'secret'],
      properties: { uuid: { type: 'string' }, secret: { type: 'string' } }
    },
    handler: async (req, app) => {
      const { uuid } = req.params
      const secret = await rotateDeviceSecret(app.repos.devices, uuid, () => app.clock.now())
      // The live session was opened with the old secret: it ends now (its will is published as after any drop).
      disconnect(app, uuid)
      await auditChange(app, req, 'device_secret_rotated', uuid)
      return { uuid, secret }
    }
  }),
  route<{ uuid: string }>({
    ...common,
    id: 'devices.approve',
    method: 'POST',
    path: '/devices/:uuid/approve',
    role: 'admin',
    summary:
      'Approve a pending (auto-registered) device (as `device approve`): pending → offline, full rights from its ' +
        'next CONNECT',
    response: deviceSchema,
    handler: async (req, app) => {
      const before = await found(app, req.params.uuid)
      const device = await approveDevice(app.repos.devices, req.params.uuid, () => app.clock.now())
      if (before.status === 'pending') await auditChange(app, req, 'device_approved', device.uuid)
      return deviceView(device)
    }
  })
]

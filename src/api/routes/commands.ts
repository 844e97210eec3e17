import type { CommandStatus } from '../../../entities/command.js'
import { GatewayError } from '../../errors.js'
import type { OpenCommand } from '../../persistence/repositories/commands.js'
import { pageQuery, pageOf, route, type Page, type RouteSpec, type Schema } from '../route-table.js'
import { closedRecord } from '../schemas.js'
import { iso } from '../time-query.js'

const STATUSES: readonly CommandStatus[] = ['pending', 'sent', 'acked', 'failed', 'timeout', 'expired']
const time = { type: ['string', 'null'], format: 'date-time' }

const commandSchema: Schema = closedRecord({
  commandId: { type: 'string' },
  deviceUuid: { type: 'string' },
  source: { type: 'string', enum: ['api', 'mqtt', 'macro', 'emergency', 'system'] },
  username: { type: ['string', 'null'] },
  command: { type: 'string' },
  payload: { type: 'object' },
  status: { type: 'string', enum: STATUSES },
  attempts: { type: 'integer' },
  message: { type: ['string', 'null'] },
  createdAt: { type: 'string', format: 'date-time' },
  sentAt: time,
  completedAt: time,
  expiresAt: time,
  latencyMs: { type: ['integer', 'null'] }
})

function commandView (c: OpenCommand): Record<string, unknown> {
  return {
    commandId: c.commandId,
    deviceUuid: c.deviceUuid,
    source: c.source,
    username: c.username,
    command: c.command,
    payload: c.payload,
    status: c.status,
    attempts: c.attempts,
    message: c.message,
    createdAt: iso(c.createdAt),
    sentAt: iso(c.sentAt),
    completedAt: iso(c.completedAt),
    expiresAt: iso(c.expiresAt),
    latencyMs: c.latencyMs
  }
}

/**
 * `/commands`: every command sent to a device and its lifecycle (pending → sent → acked | failed | timeout | expired).
 */
export const commandsRoutes: RouteSpec[] = [
  route<unknown, { status?: CommandStatus, device?: string } & Page>({
    id: 'commands.list',
    method: 'GET',
    path: '/commands',
    role: 'viewer',
    tag: 'commands',
    summary: 'Commands, newest first, optionally of one status and/or one device',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        status: { type: 'string', enum: STATUSES },
        device: { type: 'string', minLength: 1, maxLength: 64, description: 'device UUID' },
        ...pageQuery
      }
    },
    response: pageOf(commandSchema),
    handler: async (req, app) => {
      const { status, device, limit, offset } = req.query
      const page = await app.repos.commands.page(
        { status: status === undefined ? undefined : [status], deviceUuid: device },
        { limit, offset }
      )
      return { items: page.items.map(commandView), total: page.total, limit, offset }
    }
  }),
  route<{ id: string }>({
    id: 'commands.get',
    method: 'GET',
    path: '/commands/:id',
    role: 'viewer',
    tag: 'commands',
    summary: 'One command by its command_id',
    params: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', minLength: 1, maxLength: 36, description: 'the command_id' } }
    },
    response: commandSchema,
    errors: ['GW_ERR_COMMAND_NOT_FOUND'],
    handler: async (req, app) => {
      const c = await app.repos.commands.byCommandId(req.params.id)
      if (c === undefined) throw new GatewayError('GW_ERR_COMMAND_NOT_FOUND', `no command ${req.params.id}`)
      return commandView(c)
    }
  })
]

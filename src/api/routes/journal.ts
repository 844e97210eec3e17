import { journalView } from '../../services/journal.js'
import { route, type RouteSpec, type Schema } from '../route-table.js'
import { closedRecord } from '../schemas.js'
import { parseTime, timeQuery } from '../time-query.js'

const entrySchema: Schema = closedRecord({
  id: { type: 'integer' },
  at: { type: 'string', format: 'date-time', description: 'when the gateway took the request' },
  actor: { type: 'string', description: 'user name, device UUID, MQTT client id, or gateway' },
  actorKind: { type: 'string', enum: ['user', 'device', 'anonymous', 'other', 'gateway'] },
  role: { type: ['string', 'null'], description: "the user's role at the time" },
  transport: { type: 'string', enum: ['api', 'mqtt', 'ws', 'cli', 'gateway-internal'] },
  address: { type: ['string', 'null'], description: 'remote address of the request or MQTT connection' },
  action: {
    type: 'string',
    description:
      'relay.on|off|toggle|pulse|hold, macro.run, macro.cancel, emergency.stop, emergency.reset, device.config'
  },
  target: { type: ['string', 'null'], description: '<deviceUuid>/<channel>, macro:<id>, device:<uuid>, gateway' },
  params: { type: ['object', 'null'] },
  outcome: { type: 'string', enum: ['accepted', 'refused'] },
  errorCode: { type: ['string', 'null'], description: 'why it was refused' },
  commandId: { type: ['string', 'null'], description: 'the relay command it caused (see GET /commands/{commandId})' }
})

interface JournalQuery { since?: string, until?: string, target?: string, action?: string, limit: number }

/** `GET /journal`: the black box of control actions (issue 14), oldest first. Admins only. */
export const journalRoutes: RouteSpec[] = [
  route<unknown, JournalQuery>({
    id: 'journal.list',
    method: 'GET',
    path: '/journal',
    role: 'admin',
    tag: 'journal',
    summary:
      'The control journal: who asked for which control action, through what, when, and its outcome (oldest first)',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        since: timeQuery('only actions at or after this time'),
        until: timeQuery('only actions at or before this time'),
        target: {
          type: 'string',
          minLength: 1,
          maxLength: 128,
          description: 'exact target, e.g. <deviceUuid>/3 or macro:2'
        },
        action: { type: 'string', pattern: '^[a-z]+\\.[a-z]+$', maxLength: 32, description: 'e.g. relay.on' },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'at most this many' }
      }
    },
    response: {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      properties: { items: { type: 'array', items: entrySchema } }
    },
    handler: async (req, app) => {
      const q = req.query
      const rows = await app.repos.journal.find({
        since: q.since === undefined ? undefined : parseTime('since', q.since),
        until: q.until === undefined ? undefined : parseTime('until', q.until),
        target: q.target,
        action: q.action,
        limit: q.limit
      })
      return { items: rows.map(journalView) }
    }
  })
]

import type { EventLevel } from '../../../entities/event-log.js'
import { GatewayError } from '../../errors.js'
import { eventMessage } from '../../services/events.js'
import { pageQuery, pageOf, route, type Page, type RouteSpec, type Schema } from '../route-table.js'
import { parseTime, timeQuery } from '../time-query.js'

export const LEVELS: readonly EventLevel[] = ['info', 'warning', 'error', 'critical']

/** The EventMessage published on `autocore/events/{type}` (services/events.ts). */
const eventSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'ts', 'level', 'type', 'source', 'action', 'target', 'username', 'payload'],
  properties: {
    id: { type: 'integer' },
    ts: { type: 'string', format: 'date-time' },
    level: { type: 'string', enum: LEVELS },
    type: { type: 'string' },
    source: { type: 'string' },
    action: { type: ['string', 'null'] },
    target: { type: ['string', 'null'] },
    username: { type: ['string', 'null'] },
    payload: { type: ['object', 'null'] }
  }
}

const next: Schema = {
  type: ['object', 'null'],
  required: ['since', 'afterId'],
  properties: { since: { type: 'integer' }, afterId: { type: ['integer', 'null'] } },
  description:
    'with since: the since (and afterId) of the next poll, which then returns exactly the events after this answer; ' +
      'null without since'
}

interface EventsQuery extends Page { since?: string, afterId?: number, level?: EventLevel, type?: string }

/**
 * `GET /events`: event_logs, filtered and paged in SQL. Without `since`, newest first (a log view). With `since`,
 * oldest first and only what is committed up to a moment just before the request (`until`), so a poller that
 * passes `next` back gets every event exactly once, even several in one millisecond.
 */
export const eventsRoutes: RouteSpec[] = [
  route<unknown, EventsQuery>({
    id: 'events.list',
    method: 'GET',
    path: '/events',
    role: 'viewer',
    tag: 'events',
    summary:
      'Events: newest first, or with `since` oldest first after it (pass `next` back to continue); `level` is a ' +
        'minimum',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        since: timeQuery('only events after this time (exclusive)'),
        afterId: {
          type: 'integer',
          minimum: 0,
          description: 'with since: also events at exactly since whose id is greater (the last event seen)'
        },
        level: { type: 'string', enum: LEVELS, description: 'minimum level: warning = warning, error and critical' },
        type: {
          type: 'string',
          pattern: '^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$',
          maxLength: 512,
          description: 'event type, or several separated by commas'
        },
        ...pageQuery
      }
    },
    response: {
      ...pageOf(eventSchema),
      required: ['items', 'total', 'limit', 'offset', 'next'],
      properties: { ...(pageOf(eventSchema).properties as object), next }
    },
    handler: async (req, app) => {
      const q = req.query
      const levels = q.level === undefined ? undefined : LEVELS.slice(LEVELS.indexOf(q.level))
      const types = q.type?.split(',')
      if (q.since === undefined) {
        if (q.afterId !== undefined) {
          throw new GatewayError('GW_ERR_HTTP_VALIDATION', 'invalid query: afterId needs since', [
            { in: 'query', field: 'since', message: 'is required with afterId' }
          ])
        }
        const page = await app.repos.events.page({ levels, types, limit: q.limit, offset: q.offset })
        return { items: page.items.map(eventMessage), total: page.total, limit: q.limit, offset: q.offset, next: null }
      }
      const since = parseTime('since', q.since)
      const until = Math.max(since, app.repos.events.horizon(app.clock.now()))
      const page = await app.repos.events.page({
        levels,
        types,
        after: { ts: since, id: q.afterId, until },
        limit: q.limit,
        offset: q.offset
      })
      const last = page.items.at(-1)
      // A full page may have more after it: continue after its last event; otherwise everything up to `until` is here.
      const more = last !== undefined && page.items.length === q.limit
      return {
        items: page.items.map(eventMessage),
        total: page.total,
        limit: q.limit,
        offset: q.offset,
        next: more
          ? { since: last.ts, afterId: last.id }
          : { since: until, afterId: until === since ? (q.afterId ?? null) : null }
      }
    }
  })
]

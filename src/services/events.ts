import type { EventLevel, EventLog } from '../../entities/event-log.js'
import type { Broker } from '../broker/broker.js'
import type { Clock } from '../clock.js'
import { familyTopic } from '../gateway/topics.js'
import type { Logger } from '../log.js'
import type { Repositories } from '../persistence/repositories/index.js'

export interface EventInput {
  level: EventLevel
  /** event_type: device_connected, device_offline, auth_failed, acl_denied, ... */
  type: string
  /** Who noticed: mqtt, presence, api, cli, ... */
  source: string
  action?: string
  target?: string
  username?: string
  payload?: Record<string, unknown>
}

/** An event as published on `autocore/events/{type}`. */
export interface EventMessage {
  id: number
  ts: string
  level: EventLevel
  type: string
  source: string
  action: string | null
  target: string | null
  username: string | null
  payload: Record<string, unknown> | null
}

/** An event_logs row as published (and as `GET /api/v1/events` lists it). */
export function eventMessage (row: EventLog): EventMessage {
  return {
    id: row.id,
    ts: new Date(row.ts).toISOString(),
    level: row.level,
    type: row.eventType,
    source: row.source,
    action: row.action,
    target: row.target,
    username: row.username,
    payload: row.payload
  }
}

/**
 * The one way to record an event (SPEC §4): a row in event_logs, then a QoS 0 publish on
 * `autocore/events/{type}`. Never throws: a failure is logged, so callers may fire and forget.
 */
export class EventsService {
  private readonly logger: Logger
  constructor (private readonly deps: { repos: Repositories, broker: Broker, clock: Clock, log: Logger }) {
    this.logger = deps.log.child({ module: 'events' })
  }

  async log (e: EventInput): Promise<EventMessage | undefined> {
    try {
      const row = await this.deps.repos.events.insert({
        ts: this.deps.clock.now(),
        level: e.level,
        eventType: e.type,
        source: e.source,
        action: e.action,
        target: e.target,
        username: e.username,
        payload: e.payload
      })
      const msg = eventMessage(row)
      await this.deps.broker.publish(familyTopic('events', { type: e.type }), msg, { qos: 0 })
      return msg
    } catch (err) {
      this.logger.error({ err, type: e.type }, 'event not recorded')
      return undefined
    }
  }
}

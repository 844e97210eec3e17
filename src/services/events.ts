import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { EventLog, type EventLevel } from '../../entities/index.js'
import type { Broker } from '../broker/broker.js'
import type { Clock } from '../clock.js'
import type { Database } from '../persistence/database.js'
import type { Logger } from '../log.js'
import { controlTopics } from '../gateway/topics.js'

export interface EventInput {
  level: EventLevel
  type: string
  source: string
  action?: string
  target?: string
  username?: string
  payload?: Record<string, unknown>
}

/**
 * The event log (SPEC §4 Events): one `event_logs` row per event, then published on `autocore/events/{type}`
 * at QoS 0 for panels. Logging an event never throws: a failed insert is logged and the publish still goes out.
 * Placeholder of the control branch; the access branch carries the same `log()` signature.
 */
export class EventsService {
  constructor (private readonly deps: { db: Database, broker: Broker, clock: Clock, log: Logger }) {}

  async log (e: EventInput): Promise<void> {
    const ts = this.deps.clock.now()
    try {
      await this.deps.db.dataSource.getRepository(EventLog).insert({
        ts,
        level: e.level,
        eventType: e.type,
        source: e.source,
        action: e.action ?? null,
        target: e.target ?? null,
        username: e.username ?? null,
        payload: e.payload ?? null
      } as QueryDeepPartialEntity<EventLog>)
    } catch (err) {
      this.deps.log.error({ module: 'events', err, type: e.type }, 'event not stored')
    }
    const body = { ts: new Date(ts).toISOString(), level: e.level, type: e.type, source: e.source, action: e.action, target: e.target, username: e.username, payload: e.payload }
    await this.deps.broker.publish(controlTopics.event(e.type), body, { qos: 0 }).catch(err => {
      this.deps.log.error({ module: 'events', err, type: e.type }, 'event not published')
    })
  }
}

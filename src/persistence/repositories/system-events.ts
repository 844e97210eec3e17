import type { DataSource } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { EventLog, type EventLevel } from '../../../entities/event-log.js'

export interface SystemEvent {
  level: EventLevel
  eventType: string
  source: string
  action?: string
  target?: string
  payload?: Record<string, unknown>
}

/**
 * Writes an event_logs row for what the gateway does before its services run (recovery at start): no event
 * service, webhook or poller exists yet. Once they run, events go through EventsService.log.
 */
export async function recordSystemEvent (dataSource: DataSource, ts: number, event: SystemEvent): Promise<void> {
  await dataSource.getRepository(EventLog).insert({
    ts,
    level: event.level,
    eventType: event.eventType,
    source: event.source,
    action: event.action ?? null,
    target: event.target ?? null,
    username: null,
    payload: event.payload ?? null
  } as QueryDeepPartialEntity<EventLog>)
}

import type { EventLevel, EventLog } from '../../entities/event-log.js'
import type { Broker } from '../broker/broker.js'
import type { Clock } from '../clock.js'
import type { EventBus } from '../events.js'
import { familyTopic, type EventMessage } from '../protocol/index.js'
import type { Logger } from '../log.js'
import { eventColumns, type NewEvent } from '../persistence/repositories/events.js'
import type { Repositories } from '../persistence/repositories/index.js'
import { filterMatches } from './webhook-policy.js'
import { deliveryBody } from './webhook-wire.js'

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

export type { EventMessage }

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

/** An event recorded, with the webhook deliveries queued for it. */
export interface RecordedEvent {
  message: EventMessage
  deliveryIds: number[]
}

/**
 * The one way to record an event (SPEC §4): a row in event_logs and, in the same transaction, one row in the
 * webhook outbox per enabled webhook whose filter matches (services/webhooks.ts delivers them), then a QoS 0
 * publish on `autocore/events/{type}`. Never throws: a failure is logged, so callers may fire and forget.
 */
export class EventsService {
  private readonly logger: Logger
  constructor (
    private readonly deps: { repos: Repositories, broker: Broker, clock: Clock, log: Logger, bus?: EventBus }
  ) {
    this.logger = deps.log.child({ module: 'events' })
  }

  async log (e: EventInput): Promise<EventMessage | undefined> {
    return (await this.record(e))?.message
  }

  /** Records the event and queues it for the one webhook, whatever that webhook's filter (a test delivery). */
  async logFor (webhookId: number, e: EventInput): Promise<RecordedEvent | undefined> {
    return await this.record(e, webhookId)
  }

  private async record (e: EventInput, only?: number): Promise<RecordedEvent | undefined> {
    let recorded: RecordedEvent
    try {
      const ts = this.deps.clock.now()
      const { type: eventType, ...rest } = e
      const event: NewEvent = { ts, eventType, ...rest }
      const messageOf = (id: number): EventMessage => eventMessage({ id, ...eventColumns(event) })
      const { eventId, deliveryIds } = await this.deps.repos.events.track(
        ts,
        async () =>
          await this.deps.repos.outbox.insertEvent(
            event,
            {
              match: hook => filterMatches(hook, e),
              body: (eventId, deliveryId) => deliveryBody(deliveryId, messageOf(eventId)),
              only
            }
          )
      )
      recorded = { message: messageOf(eventId), deliveryIds }
    } catch (err) {
      this.logger.error({ err, type: e.type }, 'event not recorded')
      return undefined
    }
    try {
      if (recorded.deliveryIds.length > 0) {
        this.deps.bus?.emit('webhooks.queued', { count: recorded.deliveryIds.length })
      }
      await this.deps.broker.publish(familyTopic('events', { type: e.type }), recorded.message, { qos: 0 })
    } catch (err) {
      this.logger.error({ err, type: e.type }, 'event not published')
    }
    return recorded
  }
}

import type { DataSource, Repository } from 'typeorm'
import { EventLog, type EventLevel } from '../../../entities/event-log.js'

export interface NewEvent {
  ts: number
  level: EventLevel
  eventType: string
  source: string
  action?: string | null
  target?: string | null
  username?: string | null
  payload?: Record<string, unknown> | null
}

/** The only code touching TypeORM for `event_logs`. */
export class EventsRepository {
  private readonly repo: Repository<EventLog>
  constructor (dataSource: DataSource) {
    this.repo = dataSource.getRepository(EventLog)
  }

  async insert (e: NewEvent): Promise<EventLog> {
    return await this.repo.save(this.repo.create({
      ts: e.ts,
      level: e.level,
      eventType: e.eventType,
      source: e.source,
      action: e.action ?? null,
      target: e.target ?? null,
      username: e.username ?? null,
      payload: e.payload ?? null
    }))
  }

  /** Newest first; for tests and the CLI (the events API extends this). */
  async recent (opts: { eventType?: string, limit?: number } = {}): Promise<EventLog[]> {
    return await this.repo.find({
      where: opts.eventType === undefined ? {} : { eventType: opts.eventType },
      order: { id: 'DESC' },
      take: opts.limit ?? 100
    })
  }
}

import type { DataSource, Repository } from 'typeorm'
import { EventLog, type EventLevel } from '../../../entities/event-log.js'
import { WriteHorizon } from './write-horizon.js'

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

/** An event's event_logs columns (all but the id), in the table's order, what it leaves unset as null. */
export function eventColumns (e: NewEvent): Omit<EventLog, 'id'> {
  const { action = null, target = null, username = null, payload = null } = e
  return { ts: e.ts, level: e.level, eventType: e.eventType, source: e.source, action, target, username, payload }
}

export interface EventQuery {
  levels?: readonly EventLevel[]
  types?: readonly string[]
  /**
   * Oldest first, only events after this point (ts, then id for events of the same millisecond) and at or
   * before `until`; without it, newest first.
   */
  after?: { ts: number, id?: number, until: number }
  limit: number
  offset: number
}

/** The only code touching TypeORM for `event_logs`. */
export class EventsRepository {
  private readonly repo: Repository<EventLog>
  private readonly writes = new WriteHorizon()
  constructor (dataSource: DataSource) {
    this.repo = dataSource.getRepository(EventLog)
  }

  /**
   * Runs `write`, the insert of an event stamped `ts` (the outbox's, with its webhook deliveries), holding the
   * horizon before `ts` until it settles, so a reader polling with `since` never moves past a row still to come.
   */
  async track<T> (ts: number, write: () => Promise<T>): Promise<T> {
    return await this.writes.track(ts, write)
  }

  /** The latest time whose event rows have all committed (see WriteHorizon): what a poller may read up to. */
  horizon (now: number): number {
    return this.writes.horizon(now)
  }

  /** One page of events, filtered and ordered in SQL (see EventQuery), with the count of all that match. */
  async page (q: EventQuery): Promise<{ items: EventLog[], total: number }> {
    const qb = this.repo.createQueryBuilder('e')
    if (q.levels !== undefined) qb.andWhere('e.level IN (:...levels)', { levels: q.levels })
    if (q.types !== undefined) qb.andWhere('e.eventType IN (:...types)', { types: q.types })
    const after = q.after
    if (after === undefined) {
      qb.orderBy('e.ts', 'DESC').addOrderBy('e.id', 'DESC')
    } else {
      if (after.id === undefined) qb.andWhere('e.ts > :ts', { ts: after.ts })
      else qb.andWhere('(e.ts > :ts OR (e.ts = :ts AND e.id > :id))', { ts: after.ts, id: after.id })
      qb.andWhere('e.ts <= :until', { until: after.until }).orderBy('e.ts', 'ASC').addOrderBy('e.id', 'ASC')
    }
    const [items, total] = await qb.skip(q.offset).take(q.limit).getManyAndCount()
    return { items, total }
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

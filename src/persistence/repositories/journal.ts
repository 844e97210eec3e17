import type { DataSource } from 'typeorm'
import { JournalEntry } from '../../../entities/index.js'
import { query } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'

export type JournalRow = Omit<JournalEntry, 'id'>

export interface JournalFilter { since?: number, until?: number, target?: string, action?: string, limit: number }

const INSERT =
  'INSERT INTO control_journal (ts, actor, actor_kind, role, transport, address, action, target, params, outcome, ' +
    'error_code, command_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
const DELETE_OLD =
  'DELETE FROM control_journal WHERE id IN (SELECT id FROM control_journal WHERE ts < ? ORDER BY ts LIMIT ?)'

/**
 * `control_journal`: the black box. An insert on SQLite is a prepared statement committed on its own (durable against
 * a process kill once it returns), run when no other transaction is open on the shared connection.
 */
export class JournalRepository {
  private readonly sqlite: SqliteStore | undefined

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  async insert (r: JournalRow): Promise<number> {
    const values = [r.ts, r.actor, r.actorKind, r.role, r.transport, r.address, r.action, r.target,
      r.params === null ? null : JSON.stringify(r.params), r.outcome, r.errorCode, r.commandId]
    const sqlite = this.sqlite
    if (sqlite !== undefined) {
      return await sqlite.write(() => Number(sqlite.statement(INSERT).run(...values).lastInsertRowid))
    }
    const [row] = await query<{ id: number }>(this.ds, `${INSERT} RETURNING id`, values)
    return Number(row.id)
  }

  /** Oldest first within [since, until], optionally of one target (exact) and one action. */
  async find (f: JournalFilter): Promise<JournalEntry[]> {
    const qb = this.ds.getRepository(JournalEntry).createQueryBuilder('j')
    if (f.since !== undefined) qb.andWhere('j.ts >= :since', { since: f.since })
    if (f.until !== undefined) qb.andWhere('j.ts <= :until', { until: f.until })
    if (f.target !== undefined) qb.andWhere('j.target = :target', { target: f.target })
    if (f.action !== undefined) qb.andWhere('j.action = :action', { action: f.action })
    return await qb.orderBy('j.ts', 'ASC').addOrderBy('j.id', 'ASC').take(f.limit).getMany()
  }

  /** Deletes at most `limit` rows older than `cutoff`; how many went (the retention job calls it in chunks). */
  async deleteOlderThan (cutoff: number, limit: number): Promise<number> {
    const sqlite = this.sqlite
    if (sqlite !== undefined) return await sqlite.write(() => sqlite.statement(DELETE_OLD).run(cutoff, limit).changes)
    const [d] = await query<{ n: string }>(
      this.ds,
      `WITH d AS (${DELETE_OLD} RETURNING 1) SELECT COUNT(*) AS n FROM d`,
      [cutoff, limit]
    )
    return Number(d.n)
  }
}

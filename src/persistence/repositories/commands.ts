import { In, type DataSource } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { Command, Device, type CommandStatus } from '../../../entities/index.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'

export type CommandRow = Pick<
  Command,
  | 'commandId'
  | 'deviceId'
  | 'source'
  | 'username'
  | 'command'
  | 'payload'
  | 'status'
  | 'attempts'
  | 'message'
  | 'createdAt'
  | 'sentAt'
  | 'completedAt'
  | 'expiresAt'
  | 'latencyMs'
>

export type OpenCommand = CommandRow & { deviceUuid: string }

const INSERT =
  'INSERT INTO commands (command_id, device_id, source, username, command, payload, status, attempts, message, ' +
    'created_at, sent_at, completed_at, expires_at, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'

/** The columns an update may set, by CommandRow field. */
const COLUMNS: Record<keyof CommandRow, string> = {
  commandId: 'command_id',
  deviceId: 'device_id',
  source: 'source',
  username: 'username',
  command: 'command',
  payload: 'payload',
  status: 'status',
  attempts: 'attempts',
  message: 'message',
  createdAt: 'created_at',
  sentAt: 'sent_at',
  completedAt: 'completed_at',
  expiresAt: 'expires_at',
  latencyMs: 'latency_ms'
}

/** A column value as bound to the statement (payload is `simple-json`, as TypeORM stores it). */
const bound = (field: keyof CommandRow, value: unknown): unknown =>
  field === 'payload' ? JSON.stringify(value) : (value ?? null)

/**
 * The `commands` table: one row per command to a device and its lifecycle. On SQLite the writes are prepared
 * statements in one synchronous transaction on TypeORM's connection (an emergency stop inserts a row per relay
 * channel, and its acknowledgements update as many); on PostgreSQL they go through TypeORM.
 */
export class CommandsRepository {
  private readonly sqlite: SqliteStore | undefined
  private insertSync?: (rows: CommandRow[]) => void
  private updateSync?: (updates: Array<{ commandId: string, patch: Partial<CommandRow> }>) => void

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  async deviceId (uuid: string): Promise<number | undefined> {
    const d = await this.ds.getRepository(Device).findOne({ where: { uuid }, select: { id: true } })
    return d?.id
  }

  async find (commandId: string): Promise<Command | null> {
    return await this.ds.getRepository(Command).findOne({ where: { commandId } })
  }

  /** Inserts the rows in one transaction (an emergency stop writes one row per relay channel at once). */
  async insert (rows: CommandRow[]): Promise<void> {
    if (rows.length === 0) return
    const sqlite = this.sqlite
    if (sqlite !== undefined) {
      const insert = this.insertSync ??= sqlite.transactional((batch: CommandRow[]) => {
        const stmt = sqlite.statement(INSERT)
        for (const r of batch) {
          stmt.run(
            r.commandId,
            r.deviceId,
            r.source,
            r.username,
            r.command,
            JSON.stringify(r.payload),
            r.status,
            r.attempts,
            r.message,
            r.createdAt,
            r.sentAt,
            r.completedAt,
            r.expiresAt,
            r.latencyMs
          )
        }
      })
      await sqlite.write(() => insert(rows))
      return
    }
    await this.ds.transaction(async m => {
      for (let i = 0; i < rows.length; i += 100) {
        await m.insert(Command, rows.slice(i, i + 100) as Array<QueryDeepPartialEntity<Command>>)
      }
    })
  }

  async update (commandId: string, patch: Partial<CommandRow>): Promise<void> {
    await this.ds.getRepository(Command).update({ commandId }, patch as QueryDeepPartialEntity<Command>)
  }

  /** Several updates in one transaction (one fsync for a burst of responses). */
  async updateMany (updates: Array<{ commandId: string, patch: Partial<CommandRow> }>): Promise<void> {
    if (updates.length === 0) return
    const sqlite = this.sqlite
    if (sqlite !== undefined) {
      type Batch = Array<{ commandId: string, patch: Partial<CommandRow> }>
      const update = this.updateSync ??= sqlite.transactional((batch: Batch) => {
        for (const { commandId, patch } of batch) {
          const fields = (Object.keys(patch) as Array<keyof CommandRow>).filter(f => patch[f] !== undefined)
          if (fields.length === 0) continue
          const stmt = sqlite.statement(
            `UPDATE commands SET ${fields.map(f => `${COLUMNS[f]} = ?`).join(', ')} WHERE command_id = ?`
          )
          stmt.run(...fields.map(f => bound(f, patch[f])), commandId)
        }
      })
      await sqlite.write(() => update(updates))
      return
    }
    await this.ds.transaction(async m => {
      for (const u of updates) {
        await m.update(Command, { commandId: u.commandId }, u.patch as QueryDeepPartialEntity<Command>)
      }
    })
  }

  /** Commands not yet closed (pending or sent), oldest first, with their device's UUID. */
  async open (): Promise<OpenCommand[]> {
    const rows = await this.ds.getRepository(Command).find({
      where: { status: In(['pending', 'sent']) },
      relations: { device: true },
      order: { createdAt: 'ASC', id: 'ASC' }
    })
    return rows.map(({ device, id: _id, ...row }) => ({ ...row, deviceUuid: device?.uuid ?? '' }))
  }

  /** One command by its command_id, with its device's UUID. */
  async byCommandId (commandId: string): Promise<OpenCommand | undefined> {
    const row = await this.ds.getRepository(Command).findOne({ where: { commandId }, relations: { device: true } })
    if (row === null) return undefined
    const { device, id: _id, ...rest } = row
    return { ...rest, deviceUuid: device?.uuid ?? '' }
  }

  /**
   * One page of commands, newest first, optionally of some statuses and one device, with the count of all that match.
   */
  async page (
    filter: { status?: readonly CommandStatus[], deviceUuid?: string },
    page: { limit: number, offset: number }
  ): Promise<{ items: OpenCommand[], total: number }> {
    const qb = this.ds.getRepository(Command).createQueryBuilder('c').innerJoinAndSelect('c.device', 'd')
    if (filter.status !== undefined) qb.andWhere('c.status IN (:...status)', { status: filter.status })
    if (filter.deviceUuid !== undefined) qb.andWhere('d.uuid = :uuid', { uuid: filter.deviceUuid })
    const [rows, total] = await qb
      .orderBy('c.createdAt', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .skip(page.offset)
      .take(page.limit)
      .getManyAndCount()
    return { items: rows.map(({ device, id: _id, ...row }) => ({ ...row, deviceUuid: device?.uuid ?? '' })), total }
  }
}

import { In, type DataSource } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { Command, Device, type CommandStatus } from '../../../entities/index.js'

export type CommandRow = Pick<Command, 'commandId' | 'deviceId' | 'source' | 'username' | 'command' | 'payload' | 'status' |
'attempts' | 'message' | 'createdAt' | 'sentAt' | 'completedAt' | 'expiresAt' | 'latencyMs'>

export type OpenCommand = CommandRow & { deviceUuid: string }

/** The `commands` table: one row per command to a device and its lifecycle. */
export class CommandsRepository {
  constructor (private readonly ds: DataSource) {}

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
    await this.ds.transaction(async m => {
      for (let i = 0; i < rows.length; i += 100) await m.insert(Command, rows.slice(i, i + 100) as Array<QueryDeepPartialEntity<Command>>)
    })
  }

  async update (commandId: string, patch: Partial<CommandRow>): Promise<void> {
    await this.ds.getRepository(Command).update({ commandId }, patch as QueryDeepPartialEntity<Command>)
  }

  /** Several updates in one transaction (one fsync for a burst of responses). */
  async updateMany (updates: Array<{ commandId: string, patch: Partial<CommandRow> }>): Promise<void> {
    if (updates.length === 0) return
    await this.ds.transaction(async m => {
      for (const u of updates) await m.update(Command, { commandId: u.commandId }, u.patch as QueryDeepPartialEntity<Command>)
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

  /** One page of commands, newest first, optionally of some statuses and one device, with the count of all that match. */
  async page (filter: { status?: readonly CommandStatus[], deviceUuid?: string }, page: { limit: number, offset: number }): Promise<{ items: OpenCommand[], total: number }> {
    const qb = this.ds.getRepository(Command).createQueryBuilder('c').innerJoinAndSelect('c.device', 'd')
    if (filter.status !== undefined) qb.andWhere('c.status IN (:...status)', { status: filter.status })
    if (filter.deviceUuid !== undefined) qb.andWhere('d.uuid = :uuid', { uuid: filter.deviceUuid })
    const [rows, total] = await qb.orderBy('c.createdAt', 'DESC').addOrderBy('c.id', 'DESC').skip(page.offset).take(page.limit).getManyAndCount()
    return { items: rows.map(({ device, id: _id, ...row }) => ({ ...row, deviceUuid: device?.uuid ?? '' })), total }
  }
}

import type { DataSource } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { SystemStatus } from '../../../entities/index.js'

/** Small persisted key/value state (`system_status`), e.g. key 'emergency'. */
export class SystemStatusRepository {
  constructor (private readonly ds: DataSource) {}

  async get<T> (key: string): Promise<T | undefined> {
    const row = await this.ds.getRepository(SystemStatus).findOne({ where: { key } })
    return row === null ? undefined : row.value as T
  }

  async set (key: string, value: unknown, now: number): Promise<void> {
    await this.ds.getRepository(SystemStatus).upsert({ key, value, updatedAt: now } as QueryDeepPartialEntity<SystemStatus>, ['key'])
  }
}

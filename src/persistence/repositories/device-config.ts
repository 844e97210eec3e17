import type { DataSource, QueryDeepPartialEntity, Repository } from 'typeorm'
import { Device } from '../../../entities/device.js'
import { RelayChannel } from '../../../entities/relay-channel.js'

/** A device's configuration as stored: `devices.config`, `config_version`, `applied_config_version`. */
export interface DeviceConfigRow {
  uuid: string
  name: string
  type: string
  status: string
  config: Record<string, unknown> | null
  configVersion: number
  appliedConfigVersion: number | null
  lastSeen: number | null
}

const COLUMNS = {
  uuid: true,
  name: true,
  type: true,
  status: true,
  config: true,
  configVersion: true,
  appliedConfigVersion: true,
  lastSeen: true
} as const

/** The only code touching TypeORM for the config columns of `devices` (services/device-config.ts). */
export class DeviceConfigRepository {
  private readonly repo: Repository<Device>
  constructor (dataSource: DataSource) {
    this.repo = dataSource.getRepository(Device)
  }

  async byUuid (uuid: string): Promise<DeviceConfigRow | undefined> {
    return (await this.repo.findOne({ where: { uuid }, select: COLUMNS })) ?? undefined
  }

  /** The channel numbers marked `fail_safe: off`, per board (of one board with `uuid`). */
  async failSafeOff (uuid?: string): Promise<Map<string, number[]>> {
    const q = this.repo.manager.getRepository(RelayChannel).createQueryBuilder('rc')
      .innerJoin('rc.device', 'd')
      .select('d.uuid', 'uuid').addSelect('rc.channel_number', 'channel')
      .where('rc.fail_safe = :off', { off: 'off' })
      .orderBy('rc.channel_number', 'ASC')
    if (uuid !== undefined) q.andWhere('d.uuid = :uuid', { uuid })
    const out = new Map<string, number[]>()
    for (const r of await q.getRawMany<{ uuid: string, channel: number | string }>()) {
      const list = out.get(r.uuid) ?? []
      list.push(Number(r.channel))
      out.set(r.uuid, list)
    }
    return out
  }

  /** Every device's uuid, version and config (the start-up check of the retained configs). */
  async all (): Promise<DeviceConfigRow[]> {
    return await this.repo.find({ select: COLUMNS, order: { id: 'ASC' } })
  }

  /**
   * Stores a new config and bumps config_version in one statement; with `expectedVersion`, only if the stored
   * version is that one. Resolves with the new version, 'conflict', or undefined when the device does not exist.
   */
  async replace (
    uuid: string,
    config: Record<string, unknown>,
    expectedVersion: number | undefined,
    now: number
  ): Promise<number | 'conflict' | undefined> {
    const q = this.repo.createQueryBuilder().update(Device)
      // simple-json: TypeORM's partial-entity type does not follow the column's JSON type.
      .set({ config, configVersion: () => 'config_version + 1', updatedAt: now } as QueryDeepPartialEntity<Device>)
      .where('uuid = :uuid', { uuid })
    if (expectedVersion !== undefined) q.andWhere('config_version = :expectedVersion', { expectedVersion })
    const res = await q.execute()
    const row = await this.repo.findOne({ where: { uuid }, select: { uuid: true, configVersion: true } })
    if (row === null) return undefined
    return (res.affected ?? 0) > 0 ? row.configVersion : 'conflict'
  }

  /** Records the version a device reports as applied; true when it changed (updated_at moves only then). */
  async setApplied (uuid: string, version: number, now: number): Promise<boolean> {
    const res = await this.repo.createQueryBuilder().update(Device)
      .set({ appliedConfigVersion: version, updatedAt: now })
      .where('uuid = :uuid', { uuid })
      .andWhere('(applied_config_version IS NULL OR applied_config_version <> :version)', { version })
      .execute()
    return (res.affected ?? 0) > 0
  }

  /** Devices whose applied version lags: below config_version, or none reported while config_version > 0. */
  async lagging (page: { limit: number, offset: number }): Promise<{ items: DeviceConfigRow[], total: number }> {
    const [items, total] = await this.repo.createQueryBuilder('d')
      .select(Object.keys(COLUMNS).map(c => `d.${c}`))
      .where('d.configVersion > 0')
      .andWhere('(d.appliedConfigVersion IS NULL OR d.appliedConfigVersion < d.configVersion)')
      .orderBy('d.id', 'ASC')
      .skip(page.offset)
      .take(page.limit)
      .getManyAndCount()
    return { items, total }
  }
}

import { In, type DataSource, type FindOptionsWhere, type Repository } from 'typeorm'
import { Device, type DeviceStatus } from '../../../entities/device.js'
import { DeviceTombstone } from '../../../entities/device-tombstone.js'
import { forPostgres, query } from './sql.js'
import { sqliteStore } from '../sqlite/index.js'
import { WriteHorizon } from './write-horizon.js'

export interface NewDevice {
  uuid: string
  name: string
  type: string
  secretHash: string
  status?: DeviceStatus
  capabilities?: string[] | null
}

export interface PresenceUpdate {
  status?: DeviceStatus
  lastSeen?: number
  ipAddress?: string | null
  firmware?: string | null
  macAddress?: string | null
  name?: string
  type?: string
  capabilities?: string[] | null
}

/** What a live connection of a device is rechecked against. */
export interface DeviceAccess { uuid: string, enabled: boolean, secretHash: string | null, certSerial: string | null }

/** What changed in (since, until]: rows by change time, deleted UUIDs by deletion time. */
export interface DeviceChanges { changed: Device[], deleted: string[] }

const UPSERT_TOMBSTONE =
  'INSERT INTO device_tombstones (uuid, deleted_at) VALUES (?, ?) ON CONFLICT (uuid) DO UPDATE SET deleted_at = ' +
    'excluded.deleted_at'

/**
 * The only code touching TypeORM for `devices`. Timestamps come from the caller (the injected clock); every write
 * stamps `updated_at` (presence too: status, last_seen), which `changes()` reads.
 */
export class DevicesRepository {
  private readonly repo: Repository<Device>
  private readonly writes = new WriteHorizon()
  constructor (private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(Device)
  }

  async byUuid (uuid: string): Promise<Device | undefined> {
    return (await this.repo.findOneBy({ uuid })) ?? undefined
  }

  async list (): Promise<Device[]> {
    return await this.repo.find({ order: { id: 'ASC' } })
  }

  /** Every device's uuid and whether it is enabled: what the live connections are rechecked against. */
  async access (): Promise<DeviceAccess[]> {
    type Row = { uuid: string, enabled: boolean | number, secret_hash: string | null, cert_serial: string | null }
    const rows = await query<Row>(this.dataSource, 'SELECT uuid, enabled, secret_hash, cert_serial FROM devices', [])
    return rows.map(r => ({
      uuid: r.uuid,
      enabled: Boolean(r.enabled),
      secretHash: r.secret_hash,
      certSerial: r.cert_serial
    }))
  }

  async listByStatus (status: DeviceStatus): Promise<Device[]> {
    return await this.repo.find({ where: { status }, order: { id: 'ASC' } })
  }

  /** One page in provisioning order, optionally only some statuses and types. */
  async page (
    filter: { status?: DeviceStatus[], type?: string[] },
    page: { limit: number, offset: number }
  ): Promise<{ items: Device[], total: number }> {
    const where: FindOptionsWhere<Device> = {
      ...(filter.status === undefined ? {} : { status: In(filter.status) }),
      ...(filter.type === undefined ? {} : { type: In(filter.type) })
    }
    const [items, total] = await this.repo.findAndCount({
      where,
      order: { id: 'ASC' },
      skip: page.offset,
      take: page.limit
    })
    return { items, total }
  }

  async create (d: NewDevice, now: number): Promise<Device> {
    return await this.writes.track(now, async () => {
      const row = await this.repo.save(this.repo.create({
        uuid: d.uuid,
        name: d.name,
        type: d.type,
        secretHash: d.secretHash,
        status: d.status ?? 'offline',
        enabled: true,
        capabilities: d.capabilities ?? null,
        createdAt: now,
        updatedAt: now
      }))
      // Provisioned again: the row is what a change feed reader needs now, not the old deletion.
      await this.dataSource.getRepository(DeviceTombstone).delete({ uuid: d.uuid })
      return row
    })
  }

  /** True when the device exists. */
  async update (
    uuid: string,
    patch: PresenceUpdate & { enabled?: boolean, secretHash?: string, certSerial?: string | null },
    now: number
  ): Promise<boolean> {
    return await this.writes.track(now, async () => {
      const res = await this.repo.update({ uuid }, { ...patch, updatedAt: now })
      return (res.affected ?? 0) > 0
    })
  }

  /**
   * Deletes the device (its telemetry, relay channels and commands go with it: ON DELETE CASCADE) and leaves a
   * tombstone stamped `now`, in one transaction. True when the device existed.
   */
  async remove (uuid: string, now: number): Promise<boolean> {
    return await this.writes.track(now, async () => {
      const sqlite = sqliteStore(this.dataSource)
      if (sqlite !== undefined) {
        return await sqlite.transaction(() => {
          const gone = sqlite.statement('DELETE FROM devices WHERE uuid = ?').run(uuid).changes > 0
          if (gone) sqlite.statement(UPSERT_TOMBSTONE).run(uuid, now)
          return gone
        }, { immediate: true })
      }
      return await this.dataSource.transaction(async m => {
        const res = await m.delete(Device, { uuid })
        const gone = (res.affected ?? 0) > 0
        if (gone) await m.query(forPostgres(UPSERT_TOMBSTONE), [uuid, now])
        return gone
      })
    })
  }

  /** The latest time whose device writes have all committed (see WriteHorizon): what `changes()` may read up to. */
  horizon (now: number): number {
    return this.writes.horizon(now)
  }

  /** Devices whose row changed in (since, until], by change time, and the UUIDs deleted in that interval. */
  async changes (since: number, until: number): Promise<DeviceChanges> {
    const changed = await this.repo.createQueryBuilder('d')
      .where('d.updatedAt > :since AND d.updatedAt <= :until', { since, until })
      .orderBy('d.updatedAt', 'ASC')
      .addOrderBy('d.id', 'ASC')
      .getMany()
    const gone = await query<{ uuid: string }>(this.dataSource,
      'SELECT uuid FROM device_tombstones WHERE deleted_at > ? AND deleted_at <= ? ORDER BY deleted_at, ' +
        'uuid', [since, until])
    return { changed, deleted: gone.map(r => r.uuid) }
  }
}

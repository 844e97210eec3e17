import type { DataSource, Repository } from 'typeorm'
import { Device, type DeviceStatus } from '../../../entities/device.js'

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

/** The only code touching TypeORM for `devices`. Timestamps come from the caller (the injected clock). */
export class DevicesRepository {
  private readonly repo: Repository<Device>
  constructor (dataSource: DataSource) {
    this.repo = dataSource.getRepository(Device)
  }

  async byUuid (uuid: string): Promise<Device | undefined> {
    return (await this.repo.findOneBy({ uuid })) ?? undefined
  }

  async list (): Promise<Device[]> {
    return await this.repo.find({ order: { id: 'ASC' } })
  }

  async listByStatus (status: DeviceStatus): Promise<Device[]> {
    return await this.repo.find({ where: { status }, order: { id: 'ASC' } })
  }

  async create (d: NewDevice, now: number): Promise<Device> {
    const row = this.repo.create({
      uuid: d.uuid,
      name: d.name,
      type: d.type,
      secretHash: d.secretHash,
      status: d.status ?? 'offline',
      enabled: true,
      capabilities: d.capabilities ?? null,
      createdAt: now,
      updatedAt: now
    })
    return await this.repo.save(row)
  }

  /** True when the device exists. */
  async update (uuid: string, patch: PresenceUpdate & { enabled?: boolean, secretHash?: string }, now: number): Promise<boolean> {
    const res = await this.repo.update({ uuid }, { ...patch, updatedAt: now })
    return (res.affected ?? 0) > 0
  }
}

import { IsNull, Not, type DataSource } from 'typeorm'
import { CanSignal } from '../../../entities/can-signal.js'

export type NewCanSignal = Pick<
  CanSignal,
  'name' | 'canId' | 'startBit' | 'length' | 'byteOrder' | 'isSigned' | 'scale' | 'offset' | 'unit' | 'min' | 'max'
>

/** Every column the API writes. */
export type CanSignalFields = NewCanSignal & Pick<CanSignal, 'telemetryKey' | 'deviceId' | 'enabled'>

/** can_signals: what the CAN handler decodes frames with, and what `can import` writes. */
export class CanSignalRepository {
  constructor (private readonly ds: DataSource) {}

  async enabled (): Promise<CanSignal[]> {
    return await this.ds.getRepository(CanSignal).find({ where: { enabled: true } })
  }

  /**
   * Inserts or updates signals, matched on (can_id, name, device); one transaction.
   * `deviceId` null means the signals decode frames from any CAN bridge.
   */
  async upsert (signals: NewCanSignal[], deviceId: number | null): Promise<{ inserted: number, updated: number }> {
    return await this.ds.transaction(async m => {
      const repo = m.getRepository(CanSignal)
      const existing = await repo.find()
      const byKey = new Map(existing.filter(s => s.deviceId === deviceId).map(s => [`${s.canId}/${s.name}`, s]))
      let inserted = 0
      let updated = 0
      for (const s of signals) {
        const found = byKey.get(`${s.canId}/${s.name}`)
        if (found === undefined) {
          await repo.insert({ ...s, deviceId, telemetryKey: null, enabled: true })
          inserted++
        } else {
          await repo.update({ id: found.id }, { ...s })
          updated++
        }
      }
      return { inserted, updated }
    })
  }

  /** A page of signals by CAN id, then name. */
  async list (
    page: { limit: number, offset: number },
    filter: { canId?: number, deviceId?: number } = {}
  ): Promise<{ rows: CanSignal[], total: number }> {
    const [rows, total] = await this.ds.getRepository(CanSignal).findAndCount({
      where: {
        ...(filter.canId === undefined ? {} : { canId: filter.canId }),
        ...(filter.deviceId === undefined ? {} : { deviceId: filter.deviceId })
      },
      relations: { device: true },
      order: { canId: 'ASC', name: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.limit
    })
    return { rows, total }
  }

  async byId (id: number): Promise<CanSignal | undefined> {
    return (await this.ds.getRepository(CanSignal).findOne({ where: { id }, relations: { device: true } })) ?? undefined
  }

  /** The key `can import` matches on: (can_id, name, device). */
  async taken (key: Pick<CanSignal, 'canId' | 'name' | 'deviceId'>, exceptId?: number): Promise<boolean> {
    return await this.ds.getRepository(CanSignal).exists({
      where: {
        canId: key.canId,
        name: key.name,
        deviceId: key.deviceId ?? IsNull(),
        ...(exceptId === undefined ? {} : { id: Not(exceptId) })
      }
    })
  }

  async create (fields: CanSignalFields): Promise<number> {
    return (await this.ds.getRepository(CanSignal).insert(fields)).identifiers[0].id as number
  }

  /** True when the signal exists. */
  async update (id: number, patch: Partial<CanSignalFields>): Promise<boolean> {
    return ((await this.ds.getRepository(CanSignal).update({ id }, patch)).affected ?? 0) > 0
  }

  async delete (id: number): Promise<boolean> {
    return ((await this.ds.getRepository(CanSignal).delete({ id })).affected ?? 0) > 0
  }
}

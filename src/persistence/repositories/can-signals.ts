import type { DataSource } from 'typeorm'
import { CanSignal } from '../../../entities/can-signal.js'

export type NewCanSignal = Pick<CanSignal, 'name' | 'canId' | 'startBit' | 'length' | 'byteOrder' | 'isSigned' | 'scale' | 'offset' | 'unit' | 'min' | 'max'>

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
}

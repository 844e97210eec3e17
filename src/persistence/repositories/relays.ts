import { Not, type DataSource } from 'typeorm'
import { Device, RelayChannel } from '../../../entities/index.js'

export type ChannelRow = RelayChannel & { deviceUuid: string }

function withUuid (c: RelayChannel): ChannelRow {
  const { device, ...rest } = c
  return Object.assign(new RelayChannel(), rest, { deviceUuid: device?.uuid ?? '' })
}

/** The `relay_channels` table, always read with the owning device's UUID. */
export class RelaysRepository {
  constructor (private readonly ds: DataSource) {}

  private get repo () { return this.ds.getRepository(RelayChannel) }

  async channel (uuid: string, channelNumber: number): Promise<ChannelRow | undefined> {
    const c = await this.repo.findOne({ where: { channelNumber, device: { uuid } }, relations: { device: true } })
    return c === null ? undefined : withUuid(c)
  }

  async byId (id: number): Promise<ChannelRow | undefined> {
    const c = await this.repo.findOne({ where: { id }, relations: { device: true } })
    return c === null ? undefined : withUuid(c)
  }

  /** The other channels of a mutex group (a group may span boards). */
  async mutexOthers (group: string, exceptId: number): Promise<ChannelRow[]> {
    const rows = await this.repo.find({ where: { mutexGroup: group, id: Not(exceptId) }, relations: { device: true } })
    return rows.map(withUuid)
  }

  /** Every channel with its board, as plain rows: the emergency path, where entity hydration costs milliseconds. */
  async allBare (): Promise<Array<{ id: number, deviceId: number, channelNumber: number, deviceUuid: string }>> {
    const rows: Array<{ id: number, device_id: number, channel_number: number, uuid: string }> = await this.ds.query(
      'SELECT rc.id, rc.device_id, rc.channel_number, d.uuid FROM relay_channels rc JOIN devices d ON d.id = rc.device_id ORDER BY rc.device_id, rc.channel_number'
    )
    return rows.map(r => ({ id: Number(r.id), deviceId: Number(r.device_id), channelNumber: Number(r.channel_number), deviceUuid: r.uuid }))
  }

  async setDesired (id: number, desired: boolean, now: number): Promise<void> {
    await this.repo.update({ id }, { desiredState: desired, updatedAt: now })
  }

  async setAllDesiredOff (now: number): Promise<void> {
    await this.repo.createQueryBuilder().update(RelayChannel).set({ desiredState: false, updatedAt: now }).execute()
  }

  /** Applies a board's state report to its known channels; returns the channels it touched. */
  async reportState (uuid: string, states: Map<number, boolean>, now: number): Promise<ChannelRow[]> {
    const device = await this.ds.getRepository(Device).findOne({ where: { uuid }, select: { id: true, uuid: true } })
    if (device === null) return []
    const rows = await this.repo.find({ where: { deviceId: device.id } })
    const touched: ChannelRow[] = []
    await this.ds.transaction(async m => {
      for (const row of rows) {
        const state = states.get(row.channelNumber)
        if (state === undefined) continue
        if (row.currentState !== state) await m.update(RelayChannel, { id: row.id }, { currentState: state, updatedAt: now })
        row.currentState = state
        touched.push(Object.assign(row, { deviceUuid: uuid }))
      }
    })
    return touched
  }
}

import { In, Not, type DataSource } from 'typeorm'
import { Device, RelayChannel, type RelayFunction } from '../../../entities/index.js'
import { unlessDuplicate } from './sql.js'

export type ChannelRow = RelayChannel & { deviceUuid: string }

function withUuid (c: RelayChannel): ChannelRow {
  const { device, ...rest } = c
  return Object.assign(new RelayChannel(), rest, { deviceUuid: device?.uuid ?? '' })
}

/** A channel's configuration, as the API writes it. */
export interface ChannelFields {
  channelNumber: number
  name: string
  function: RelayFunction
  mutexGroup: string | null
  maxOnMs: number | null
  pulseMs: number | null
  defaultState: boolean
  enabled: boolean
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

  async byIds (ids: number[]): Promise<ChannelRow[]> {
    const rows = await this.repo.find({ where: { id: In(ids) }, relations: { device: true } })
    return rows.map(withUuid)
  }

  /** With the owning device loaded (its uuid and name): the API's view. */
  async withDevice (id: number): Promise<RelayChannel | undefined> {
    return (await this.repo.findOne({ where: { id }, relations: { device: true } })) ?? undefined
  }

  /** A page of channels, by board then channel number; optionally of one board. */
  async list (page: { limit: number, offset: number }, deviceUuid?: string): Promise<{ rows: RelayChannel[], total: number }> {
    const [rows, total] = await this.repo.findAndCount({
      where: deviceUuid === undefined ? {} : { device: { uuid: deviceUuid } },
      relations: { device: true },
      order: { deviceId: 'ASC', channelNumber: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.limit
    })
    return { rows, total }
  }

  /** The new channel's id, or undefined when the board already has that channel number. */
  async create (deviceId: number, fields: ChannelFields, now: number): Promise<number | undefined> {
    if (await this.repo.exists({ where: { deviceId, channelNumber: fields.channelNumber } })) return undefined
    return await unlessDuplicate(async () => (await this.repo.insert({ ...fields, deviceId, updatedAt: now })).identifiers[0].id as number)
  }

  /** False when the change would give the board a channel number twice. */
  async update (id: number, patch: Partial<ChannelFields>, now: number): Promise<boolean> {
    if (patch.channelNumber !== undefined) {
      const current = await this.repo.findOne({ where: { id }, select: { id: true, deviceId: true } })
      if (current !== null && await this.repo.exists({ where: { deviceId: current.deviceId, channelNumber: patch.channelNumber, id: Not(id) } })) return false
    }
    return await unlessDuplicate(async () => { await this.repo.update({ id }, { ...patch, updatedAt: now }); return true }) ?? false
  }

  /** True when a row was deleted. */
  async delete (id: number): Promise<boolean> {
    return ((await this.repo.delete({ id })).affected ?? 0) > 0
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

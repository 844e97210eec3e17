import { In, Not, type DataSource } from 'typeorm'
import { RelayChannel, type FailSafe, type RelayFunction } from '../../../entities/index.js'
import { forPostgres, query, unlessDuplicate } from './sql.js'
import { sqliteStore, type SqliteStore } from '../sqlite/index.js'

export type ChannelRow = RelayChannel & { deviceUuid: string }

/** A relay channel of the emergency fan-out: just what its off-command needs. */
export interface BareChannel { id: number, deviceId: number, channelNumber: number, deviceUuid: string }

interface RawChannel {
  id: number | string
  device_id: number | string
  channel_number: number
  name: string
  function: RelayChannel['function']
  mutex_group: string | null
  max_on_ms: number | null
  pulse_ms: number | null
  default_state: boolean | number
  current_state: boolean | number | null
  desired_state: boolean | number | null
  enabled: boolean | number
  fail_safe: FailSafe
  updated_at: number | string
  uuid: string
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
  failSafe: FailSafe
}

const SELECT = `SELECT rc.id, rc.device_id, rc.channel_number, rc.name, rc.function, rc.mutex_group, rc.max_on_ms,
  rc.pulse_ms, rc.default_state, rc.current_state, rc.desired_state, rc.enabled, rc.fail_safe, rc.updated_at, d.uuid
  FROM relay_channels rc JOIN devices d ON d.id = rc.device_id`
const BY_CHANNEL = `${SELECT} WHERE d.uuid = ? AND rc.channel_number = ?`
const BY_ID = `${SELECT} WHERE rc.id = ?`
const BY_DEVICE = `${SELECT} WHERE d.uuid = ? ORDER BY rc.channel_number`
const HELD = `${SELECT} WHERE rc.function = 'momentary' AND rc.desired_state = ? ORDER BY rc.id`
const MUTEX_OTHERS = `${SELECT} WHERE rc.mutex_group = ? AND rc.id <> ? ORDER BY rc.id`
const ALL_BARE =
  'SELECT rc.id, rc.device_id, rc.channel_number, d.uuid FROM relay_channels rc JOIN devices d ON d.id = ' +
    'rc.device_id ORDER BY rc.device_id, rc.channel_number'
const SET_DESIRED = 'UPDATE relay_channels SET desired_state = ?, updated_at = ? WHERE id = ?'
const ALL_DESIRED_OFF = 'UPDATE relay_channels SET desired_state = ?, updated_at = ?'
const SET_CURRENT = 'UPDATE relay_channels SET current_state = ?, updated_at = ? WHERE id = ?'

function withUuid (c: RelayChannel): ChannelRow {
  const { device, ...rest } = c
  return Object.assign(new RelayChannel(), rest, { deviceUuid: device?.uuid ?? '' })
}

/** SQLite stores booleans as 0/1; PostgreSQL returns booleans. */
const bool = (v: boolean | number | null): boolean | null => v === null ? null : v === true || v === 1
const nullableNumber = (v: number | string | null): number | null => v === null ? null : Number(v)

/** The same values TypeORM's hydration gives (a RelayChannel), without its per-row cost. */
function toRow (r: RawChannel): ChannelRow {
  return Object.assign(new RelayChannel(), {
    id: Number(r.id),
    deviceId: Number(r.device_id),
    channelNumber: Number(r.channel_number),
    name: r.name,
    function: r.function,
    mutexGroup: r.mutex_group,
    maxOnMs: nullableNumber(r.max_on_ms),
    pulseMs: nullableNumber(r.pulse_ms),
    defaultState: bool(r.default_state) ?? false,
    currentState: bool(r.current_state),
    desiredState: bool(r.desired_state),
    enabled: bool(r.enabled) ?? false,
    failSafe: r.fail_safe,
    updatedAt: Number(r.updated_at),
    deviceUuid: r.uuid
  })
}

/**
 * The `relay_channels` table, always read with the owning device's UUID. Plain SQL on both engines: on SQLite as
 * prepared statements run synchronously on TypeORM's connection (a board's state report, 200 of them after an
 * emergency stop, costs one indexed read); on PostgreSQL through TypeORM's query().
 */
export class RelaysRepository {
  private readonly sqlite: SqliteStore | undefined

  constructor (private readonly ds: DataSource) {
    this.sqlite = sqliteStore(ds)
  }

  /** TypeORM for the API's configuration reads and writes (not on a hot path). */
  private get repo () {
    return this.ds.getRepository(RelayChannel)
  }

  async channel (uuid: string, channelNumber: number): Promise<ChannelRow | undefined> {
    return (await this.rows(BY_CHANNEL, [uuid, channelNumber]))[0]
  }

  async byId (id: number): Promise<ChannelRow | undefined> {
    return (await this.rows(BY_ID, [id]))[0]
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
  async list (
    page: { limit: number, offset: number },
    deviceUuid?: string
  ): Promise<{ rows: RelayChannel[], total: number }> {
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
    return await unlessDuplicate(
      async () => (await this.repo.insert({ ...fields, deviceId, updatedAt: now })).identifiers[0].id as number
    )
  }

  /** False when the change would give the board a channel number twice. */
  async update (id: number, patch: Partial<ChannelFields>, now: number): Promise<boolean> {
    if (patch.channelNumber !== undefined) {
      const current = await this.repo.findOne({ where: { id }, select: { id: true, deviceId: true } })
      if (
        current !== null &&
        (await this.repo.exists({
          where: { deviceId: current.deviceId, channelNumber: patch.channelNumber, id: Not(id) }
        }))
      ) { return false }
    }
    return (
      (await unlessDuplicate(async () => {
        await this.repo.update({ id }, { ...patch, updatedAt: now })
        return true
      })) ?? false
    )
  }

  /** True when a row was deleted. */
  async delete (id: number): Promise<boolean> {
    return ((await this.repo.delete({ id })).affected ?? 0) > 0
  }

  /** Momentary channels last commanded on: holds that a stop or crash interrupted, found at start. */
  async heldMomentary (): Promise<ChannelRow[]> {
    return await this.rows(HELD, [this.sqlite !== undefined ? 1 : true])
  }

  /** Every channel of one board. */
  async ofDevice (uuid: string): Promise<ChannelRow[]> {
    return await this.rows(BY_DEVICE, [uuid])
  }

  /** The other channels of a mutex group (a group may span boards). */
  async mutexOthers (group: string, exceptId: number): Promise<ChannelRow[]> {
    return await this.rows(MUTEX_OTHERS, [group, exceptId])
  }

  /**
   * Every channel with its board, as plain rows: the emergency path. On SQLite the answer is synchronous (an
   * array, not a promise), so the stop's fan-out runs in the same turn of the event loop as the trigger.
   */
  allBare (): BareChannel[] | Promise<BareChannel[]> {
    const bare = (
      rows: Array<{ id: number, device_id: number, channel_number: number, uuid: string }>
    ): BareChannel[] =>
      rows.map(r => ({
        id: Number(r.id),
        deviceId: Number(r.device_id),
        channelNumber: Number(r.channel_number),
        deviceUuid: r.uuid
      }))
    if (this.sqlite !== undefined) return bare(this.sqlite.statement(ALL_BARE).all() as Parameters<typeof bare>[0])
    return query<Parameters<typeof bare>[0][number]>(this.ds, ALL_BARE, []).then(bare)
  }

  async setDesired (id: number, desired: boolean, now: number): Promise<void> {
    await this.write(SET_DESIRED, [desired, now, id])
  }

  async setAllDesiredOff (now: number): Promise<void> {
    await this.write(ALL_DESIRED_OFF, [false, now])
  }

  /** Applies a board's state report to its known channels; returns the channels it touched. */
  async reportState (uuid: string, states: Map<number, boolean>, now: number): Promise<ChannelRow[]> {
    const touched: ChannelRow[] = []
    const changed: ChannelRow[] = []
    for (const row of await this.rows(BY_DEVICE, [uuid])) {
      const state = states.get(row.channelNumber)
      if (state === undefined) continue
      if (row.currentState !== state) changed.push(row)
      row.currentState = state
      touched.push(row)
    }
    if (changed.length === 0) return touched
    const sqlite = this.sqlite
    if (sqlite !== undefined) {
      const set = sqlite.statement(SET_CURRENT)
      await sqlite.transaction(() => { for (const row of changed) set.run(Number(row.currentState), now, row.id) })
    } else {
      await this.ds.transaction(async m => {
        for (const row of changed) await m.query(forPostgres(SET_CURRENT), [row.currentState, now, row.id])
      })
    }
    for (const row of changed) row.updatedAt = now
    return touched
  }

  private async rows (sql: string, params: unknown[]): Promise<ChannelRow[]> {
    const raw = this.sqlite !== undefined
      ? this.sqlite.statement(sql).all(...params) as RawChannel[]
      : await query<RawChannel>(this.ds, sql, params)
    return raw.map(toRow)
  }

  /** One statement, its own transaction; on SQLite never nested into another one (SqliteStore.write). */
  private async write (sql: string, params: unknown[]): Promise<void> {
    const sqlite = this.sqlite
    if (sqlite !== undefined) {
      await sqlite.write(() => sqlite.statement(sql).run(...params.map(p => typeof p === 'boolean' ? Number(p) : p)))
      return
    }
    await query(this.ds, sql, params)
  }
}

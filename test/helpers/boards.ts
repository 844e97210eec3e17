import type { Test } from 'tap'
import { Device, RelayChannel, type RelayFunction } from '../../entities/index.js'
import type { RunningApp } from './app.js'
import { deviceClient } from './devices.js'
import { connect, nextMessage, type Client } from './mqtt.js'

export interface ChannelSpec { channel: number, name?: string, function?: RelayFunction, mutexGroup?: string, maxOnMs?: number, pulseMs?: number, enabled?: boolean, failSafe?: 'off' | 'hold' }

/** Adds relay_channels rows for a provisioned device; returns their ids by channel number. */
export async function addChannels (app: RunningApp, uuid: string, specs: ChannelSpec[]): Promise<Record<number, number>> {
  const ds = app.gateway.ctx.db.dataSource
  const device = await ds.getRepository(Device).findOneByOrFail({ uuid })
  const ids: Record<number, number> = {}
  for (const s of specs) {
    const r = await ds.getRepository(RelayChannel).insert({
      deviceId: device.id,
      channelNumber: s.channel,
      name: s.name ?? `ch${s.channel}`,
      function: s.function ?? 'toggle',
      mutexGroup: s.mutexGroup ?? null,
      maxOnMs: s.maxOnMs ?? null,
      pulseMs: s.pulseMs ?? null,
      enabled: s.enabled ?? true,
      failSafe: s.failSafe ?? 'hold',
      updatedAt: Date.now()
    })
    ids[s.channel] = r.identifiers[0].id as number
  }
  return ids
}

export interface ReceivedCommand { topic: string, body: Record<string, any> }

/**
 * A simulated ESP32 relay board over a real socket: it answers every command on its command topics with a response
 * (`mode` 'ok' | 'error' | 'silent', or 'ack-only': answers ok but never switches), applies relay actions to its channels and reports them (retained) on
 * `relays/{uuid}/state`. `history` records, in order, every state change as the board saw it.
 *
 * It is the reference for firmware writers on restarts: a command id it has already carried out is answered again
 * but never carried out twice (the gateway re-sends a command whose answer it did not get before a restart), and
 * on every reconnect it reports its channels (retained) so the gateway can reconcile them.
 */
export interface SimBoard {
  uuid: string
  secret: string
  client: Client
  commands: ReceivedCommand[]
  state: Map<number, boolean>
  history: Array<Record<number, boolean>>
  /** 'mute': carries relay commands out but never answers (an answer lost to a power cut). */
  mode: 'ok' | 'error' | 'silent' | 'ack-only' | 'mute'
  /** Command ids carried out (never carried out twice). */
  done: Set<string>
  /** Connects again (a new connection, e.g. to a restarted gateway on a new port), subscribes, reports its state. */
  reconnect: (url: string) => Promise<void>
  /** With `deadman: true`: the board's side of the gateway heartbeat contract, as it stands. */
  deadman: DeadmanState
}

/**
 * The dead-man of a board, the reference for firmware (README "Gateway heartbeat"): it reads the contract from the
 * `deadman` of its retained device config, listens to the heartbeat topic named there, and when no heartbeat came
 * for `misses × heartbeat_ms` it turns every channel in `fail_safe_off` off by itself. Once the gateway is back (the
 * board has reconnected, or heartbeats come again) it reports the trip on `autocore/devices/{uuid}/error` as
 * `{code: "deadman_tripped", message, channels, missed_ms, last_boot_id}`, with its channels on `relays/{uuid}/state`.
 */
export interface DeadmanState {
  enabled: boolean
  contract?: { heartbeat_topic: string, heartbeat_ms: number, misses: number, fail_safe_off: number[] }
  lastBeatAt?: number
  lastBootId?: string
  beats: number
  /** Every trip: when (board clock), the last heartbeat before it, the channels it turned off, and if reported. */
  trips: Array<{ at: number, lastBeatAt: number, channels: number[], reported: boolean }>
}

const boardTopics = (uuid: string): string[] => [`autocore/relays/${uuid}/command`, `autocore/devices/${uuid}/command`, 'autocore/emergency/#']

export async function simBoard (t: Test, app: RunningApp, opts: { uuid?: string, channels?: ChannelSpec[], mode?: SimBoard['mode'], capabilities?: string[], deadman?: boolean } = {}): Promise<SimBoard> {
  const { client, uuid, secret } = await deviceClient(t, app, { uuid: opts.uuid, type: 'relay_board', capabilities: opts.capabilities })
  if (opts.channels !== undefined) await addChannels(app, uuid, opts.channels)
  return await boardOn(t, client, { uuid, secret, channels: (opts.channels ?? []).map(c => c.channel), mode: opts.mode, deadman: opts.deadman })
}

/**
 * A simulated board for a device provisioned elsewhere (e.g. before a real process started), connected to `url`.
 */
export async function simBoardAt (t: Test, url: string, opts: { uuid: string, secret: string, channels: number[], mode?: SimBoard['mode'], deadman?: boolean }): Promise<SimBoard> {
  const client = await connect(t, url, { clientId: opts.uuid, username: opts.uuid, password: opts.secret })
  return await boardOn(t, client, opts)
}

async function boardOn (t: Test, client: Client, opts: { uuid: string, secret: string, channels: number[], mode?: SimBoard['mode'], deadman?: boolean }): Promise<SimBoard> {
  const { uuid } = opts
  const board: SimBoard = {
    uuid,
    secret: opts.secret,
    client,
    commands: [],
    state: new Map(),
    history: [],
    mode: opts.mode ?? 'ok',
    done: new Set(),
    deadman: { enabled: opts.deadman === true, beats: 0, trips: [] },
    reconnect: async url => {
      board.client.end(true)
      board.client = await connect(t, url, { clientId: uuid, username: uuid, password: opts.secret })
      board.client.on('error', () => {})
      listen(board.client)
      await board.client.subscribeAsync(boardTopics(uuid), { qos: 1 })
      // The retained emergency state arrived: the subscription is complete (a broker closed while Aedes still
      // streams retained messages to a new subscription throws LEVEL_ITERATOR_NOT_OPEN from its store).
      await nextMessage(board.client, 'autocore/emergency/state')
      await board.client.publishAsync(`autocore/relays/${uuid}/state`, JSON.stringify({ channels: Object.fromEntries(board.state) }), { qos: 1, retain: true })
      await subscribeDeadman(board.client)
      await reportTrips(board.client)
    }
  }
  const dm = board.deadman
  const publishState = (c: Client): void => {
    void c.publishAsync(`autocore/relays/${uuid}/state`, JSON.stringify({ channels: Object.fromEntries(board.state) }), { qos: 1, retain: true }).catch(() => {})
  }
  const subscribeDeadman = async (c: Client): Promise<void> => {
    if (!dm.enabled) return
    await c.subscribeAsync(`autocore/devices/${uuid}/config`, { qos: 1 })
    if (dm.contract !== undefined) await c.subscribeAsync(dm.contract.heartbeat_topic, { qos: 0 })
  }
  const reportTrips = async (c: Client): Promise<void> => {
    for (const trip of dm.trips) {
      if (trip.reported) continue
      trip.reported = true
      await c.publishAsync(`autocore/devices/${uuid}/error`, JSON.stringify({ code: 'deadman_tripped', message: 'no gateway heartbeat: fail-safe channels turned off', channels: trip.channels, missed_ms: trip.at - trip.lastBeatAt, last_boot_id: dm.lastBootId }), { qos: 1 })
    }
  }
  if (dm.enabled) {
    // The board's own watchdog: checked ten times per heartbeat interval.
    const watchdog = setInterval(() => {
      const c = dm.contract
      if (c === undefined || dm.lastBeatAt === undefined) return
      const now = Date.now()
      const last = dm.trips[dm.trips.length - 1]
      if (last !== undefined && last.lastBeatAt === dm.lastBeatAt) return // tripped already since this heartbeat
      if (now - dm.lastBeatAt <= c.misses * c.heartbeat_ms) return
      const channels = c.fail_safe_off.filter(ch => board.state.get(ch) === true)
      for (const ch of channels) board.state.set(ch, false)
      if (channels.length > 0) board.history.push(Object.fromEntries(board.state))
      dm.trips.push({ at: now, lastBeatAt: dm.lastBeatAt, channels, reported: false })
    }, 20)
    watchdog.unref()
    t.teardown(() => clearInterval(watchdog))
  }
  for (const c of opts.channels) board.state.set(c, false)
  const listen = (c: Client): void => {
    c.on('message', (topic, payload) => {
      if (dm.enabled && topic === `autocore/devices/${uuid}/config`) {
        const contract = (JSON.parse(payload.toString()) as { deadman?: DeadmanState['contract'] }).deadman
        const fresh = dm.contract === undefined && contract !== undefined
        dm.contract = contract
        if (fresh && contract !== undefined) void c.subscribeAsync(contract.heartbeat_topic, { qos: 0 }).catch(() => {})
        return
      }
      if (dm.enabled && topic === dm.contract?.heartbeat_topic) {
        const beat = JSON.parse(payload.toString()) as { boot_id: string }
        dm.beats++
        dm.lastBeatAt = Date.now()
        dm.lastBootId = beat.boot_id
        if (dm.trips.some(tr => !tr.reported)) void reportTrips(c).then(() => publishState(c)).catch(() => {})
        return
      }
      if (!topic.endsWith('/command')) return
      const body = JSON.parse(payload.toString()) as Record<string, any>
      board.commands.push({ topic, body })
      if (board.mode === 'silent') return
      const id = String(body.command_id)
      const again = board.done.has(id)
      board.done.add(id)
      if (topic.startsWith('autocore/relays/') && (board.mode === 'ok' || board.mode === 'mute') && !again) {
        const ch = Number(body.channel)
        const on = body.action === 'on' || (body.action === 'toggle' && board.state.get(ch) !== true)
        board.state.set(ch, body.action === 'pulse' ? false : on)
        board.history.push(Object.fromEntries(board.state))
        void c.publishAsync(`autocore/relays/${uuid}/state`, JSON.stringify({ channels: Object.fromEntries(board.state) }), { qos: 1, retain: true }).catch(() => {})
      }
      if (board.mode === 'mute') return
      void c.publishAsync(`autocore/devices/${uuid}/response`, JSON.stringify({ command_id: body.command_id, status: board.mode === 'error' ? 'error' : 'ok', message: board.mode === 'error' ? 'relay driver fault' : undefined }), { qos: 1 }).catch(() => {})
    })
  }
  listen(client)
  await client.subscribeAsync(boardTopics(uuid), { qos: 1 })
  await subscribeDeadman(client)
  return board
}

import { randomUUID } from 'node:crypto'
import type { CommandSource } from '../../entities/index.js'
import type { Timer } from '../clock.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import { GatewayError } from '../errors.js'
import type { EventMap } from '../events.js'
import type { Actor } from '../gateway/actor.js'
import type { RelayAction } from '../gateway/topics.js'
import type { Logger } from '../log.js'
import type { RelaysRepository, BareChannel, ChannelRow } from '../persistence/repositories/relays.js'
import { RELAY_COMMAND, type CommandOutcome, type CommandService, type SentCommand } from './commands.js'
import type { EmergencyLatch } from './emergency-latch.js'
import type { ControlJournal } from './journal.js'

export interface RelayRequest {
  deviceUuid: string
  channel: number
  action: RelayAction
  /** Pulse length, or hold length for a momentary channel. */
  durationMs?: number
  user?: string
  source: CommandSource
  /** The requesting MQTT client: a momentary hold is released when it disconnects. */
  clientId?: string
  commandId?: string
  /**
   * A mutex group beyond the channel's own `mutex_group`: a screen item's group (seed flow 7). Its channels are
   * turned off (acknowledged) first by the same rule, and requests naming the same group run one at a time.
   */
  exclusive?: { group: string, channelIds: number[] }
  /** Who asked, through what: the request is journaled (services/journal.ts). Unset for the gateway's own steps. */
  actor?: Actor
  /** Set by `journaled`: writes the accepted journal row; called right before the command is sent. */
  journal?: () => Promise<void>
  /** The command id was generated here (see CommandRequest.fresh). */
  freshId?: boolean
}

export interface RelayResult {
  commandId: string
  action: 'on' | 'off' | 'pulse'
  outcome: Promise<CommandOutcome>
  /** Channels of the mutex group turned off first. */
  turnedOff: number[]
  /** For a hold: how long until the gateway releases it. */
  holdMs?: number
}

interface Hold { clientId?: string, timer: Timer }

/**
 * Relay channels (SPEC §4 Relays): every request becomes a relay command through the commands service, after the
 * rules: emergency lockout (nothing turns on), mutex groups (the others off — acknowledged — first), max_on_ms
 * auto-off, momentary holds released after their duration or when the requesting client disconnects.
 * `current_state` is only what the board reports on `relays/{uuid}/state`; `desired_state` is what was commanded.
 */
export class RelayService implements Service {
  readonly name = 'relays'
  private readonly repo: RelaysRepository
  private readonly log: Logger
  private readonly holds = new Map<number, Hold>()
  private readonly maxOn = new Map<number, Timer>()
  private readonly checks = new Set<Timer>()
  private stopped = false
  private readonly groupQueue = new Map<string, Promise<void>>()
  /** Boards whose first state report since they (re)connected is still to come: it is reconciled. */
  private readonly reconnected = new Set<string>()
  private readonly onDisconnect = ({ clientId }: EventMap['client.disconnected'][0]): void => { this.releaseHoldsOf(clientId) }
  private readonly onOnline = ({ uuid }: EventMap['device.online'][0]): void => { this.reconnected.add(uuid) }
  private readonly onOffline = ({ uuid }: EventMap['device.offline'][0]): void => { this.reconnected.delete(uuid) }

  private readonly commands: CommandService
  private readonly journal: ControlJournal

  constructor (private readonly ctx: Services, private readonly emergency: EmergencyLatch) {
    this.repo = ctx.repos.relays
    this.commands = ctx.commands
    this.journal = ctx.journal
    this.log = ctx.log.child({ module: 'relays' })
  }

  async start (): Promise<void> {
    this.ctx.bus.on('client.disconnected', this.onDisconnect)
    this.ctx.bus.on('device.online', this.onOnline)
    this.ctx.bus.on('device.offline', this.onOffline)
    await this.releaseInterruptedHolds()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.ctx.bus.off('client.disconnected', this.onDisconnect)
    this.ctx.bus.off('device.online', this.onOnline)
    this.ctx.bus.off('device.offline', this.onOffline)
    this.cancelTimers()
    for (const t of this.checks) t.cancel()
    this.checks.clear()
  }

  /** The one entry point for panels (MQTT) and the API. Throws a GatewayError when the request is refused. */
  async setChannel (req: RelayRequest): Promise<RelayResult> {
    return await this.journaled(req, req.action, async r => await this.setChannelNow(r))
  }

  private async setChannelNow (req: RelayRequest): Promise<RelayResult> {
    const ch = await this.channel(req.deviceUuid, req.channel)
    let action = req.action
    if (action === 'toggle') action = (ch.currentState ?? ch.desiredState ?? false) ? 'off' : 'on'
    if (action === 'off') return await this.turnOff(ch, req)
    if (action === 'on' && ch.function === 'momentary') return await this.holdNow({ ...req, action })
    return await this.turnOn(ch, { ...req, action })
  }

  /** Momentary: on now, off after `durationMs` (default relays.defaultHoldMs) or when `clientId` disconnects. */
  async hold (req: Omit<RelayRequest, 'action'> & { action?: RelayAction }): Promise<RelayResult> {
    return await this.journaled({ ...req, action: 'on' }, 'hold', async r => await this.holdNow(r))
  }

  /**
   * With an actor, the request is journaled: its accepted row written (and committed) right before its command is
   * sent, with the command id (generated here when the requester gave none); a refusal with its error code.
   */
  private async journaled (req: RelayRequest, kind: string, run: (req: RelayRequest) => Promise<RelayResult>): Promise<RelayResult> {
    const actor = req.actor
    if (actor === undefined) return await run(req)
    const commandId = req.commandId ?? randomUUID()
    const params: Record<string, unknown> = {}
    if (req.durationMs !== undefined) params.duration_ms = req.durationMs
    if (req.exclusive !== undefined) params.exclusive_group = req.exclusive.group
    const what = { action: `relay.${kind}`, target: `${req.deviceUuid}/${req.channel}`, params: Object.keys(params).length === 0 ? undefined : params, commandId }
    let journaled = false
    const journal = async (): Promise<void> => {
      if (journaled) return
      journaled = true
      await this.journal.accepted(actor, what)
    }
    try {
      return await run({ ...req, commandId, freshId: req.commandId === undefined, journal })
    } catch (err) {
      if (!journaled) await this.journal.refused(actor, what, err)
      throw err
    }
  }

  private async holdNow (req: Omit<RelayRequest, 'action'> & { action?: RelayAction }): Promise<RelayResult> {
    const ch = await this.channel(req.deviceUuid, req.channel)
    const holdMs = req.durationMs ?? this.ctx.config.relays.defaultHoldMs
    if (holdMs > this.ctx.config.relays.maxHoldMs) throw new GatewayError('GW_ERR_RELAY_BAD_REQUEST', `hold of ${holdMs} ms is over relays.maxHoldMs`)
    const result = await this.turnOn(ch, { ...req, action: 'on' })
    this.holds.get(ch.id)?.timer.cancel()
    // Only the channel: the request's command id (and journal) belong to its 'on'.
    const timer = this.ctx.clock.setTimeout(() => { void this.release({ deviceUuid: req.deviceUuid, channel: req.channel, source: 'system' }, 'hold elapsed') }, holdMs)
    this.holds.set(ch.id, { clientId: req.clientId, timer })
    return { ...result, holdMs }
  }

  async release (req: Pick<RelayRequest, 'deviceUuid' | 'channel' | 'user' | 'source'>, why = 'released'): Promise<RelayResult> {
    const ch = await this.channel(req.deviceUuid, req.channel)
    this.log.debug({ deviceUuid: ch.deviceUuid, channel: ch.channelNumber, why }, 'hold released')
    return await this.turnOff(ch, { ...req, action: 'off' })
  }

  /** Every relay channel, for the emergency stop: synchronous on SQLite (no turn of the event loop lost). */
  allChannels (): BareChannel[] | Promise<BareChannel[]> {
    return this.repo.allBare()
  }

  /**
   * Emergency: the given channels (allChannels()) off at once, timers cancelled. The off-commands are handed to
   * the broker before this returns (no await before them); resolves, with the commands per board for the
   * roll-call, once their rows and the channels' desired states are written.
   */
  async allOff (channels: BareChannel[], source: CommandSource, opts: { onPublished?: () => void } = {}): Promise<Map<string, SentCommand[]>> {
    this.cancelTimers()
    this.commands.supersedeNow(channels.map(ch => ({ uuid: ch.deviceUuid, channel: ch.channelNumber })), 'superseded by the emergency stop')
    const sent = await this.commands.sendMany(channels.map(ch => ({
      deviceUuid: ch.deviceUuid, deviceId: ch.deviceId, command: RELAY_COMMAND, params: { channel: ch.channelNumber, action: 'off' }, source
    })), opts)
    await this.repo.setAllDesiredOff(this.ctx.clock.now())
    const byBoard = new Map<string, SentCommand[]>()
    channels.forEach((ch, i) => {
      const board = byBoard.get(ch.deviceUuid)
      if (board === undefined) byBoard.set(ch.deviceUuid, [sent[i]])
      else board.push(sent[i])
    })
    return byBoard
  }

  /** A board's `relays/{uuid}/state` report: the only source of current_state. */
  async reportState (uuid: string, channels: Record<string, boolean>): Promise<void> {
    const states = new Map<number, boolean>()
    for (const [k, v] of Object.entries(channels)) if (/^\d+$/.test(k) && typeof v === 'boolean') states.set(Number(k), v)
    const first = this.reconnected.delete(uuid)
    for (const ch of await this.repo.reportState(uuid, states, this.ctx.clock.now())) {
      // A channel seen on without a running limit (switched on before a restart, or locally) still gets one.
      if (ch.currentState === true && ch.maxOnMs !== null && !this.maxOn.has(ch.id)) this.armMaxOn(ch)
      if (first) await this.reconcile(ch)
    }
  }

  /**
   * The first report of a board after it (re)connected against what the gateway last commanded (issue 14). A
   * channel with a command still open is left to that command. Every mismatch is a `relay_state_mismatch` event,
   * and the safe side wins: on at the board but commanded off is turned off; commanded on but off at the board is
   * recorded as off (the gateway never turns a relay on by itself).
   */
  private async reconcile (ch: ChannelRow): Promise<void> {
    if (ch.desiredState === null || ch.currentState === null || ch.desiredState === ch.currentState) return
    if (this.commands.hasOpenRelay(ch.deviceUuid, ch.channelNumber)) return
    const resolution = ch.currentState ? 'turned off' : 'desired state set to off'
    await this.ctx.events.log({ level: 'warning', type: 'relay_state_mismatch', source: 'gateway', target: `${ch.deviceUuid}/${ch.channelNumber}`, payload: { desired: ch.desiredState, current: ch.currentState, on: 'reconnect', resolution } })
    try {
      if (ch.currentState) await this.turnOff(ch, { deviceUuid: ch.deviceUuid, channel: ch.channelNumber, action: 'off', source: 'system' })
      else await this.repo.setDesired(ch.id, false, this.ctx.clock.now())
    } catch (err) {
      this.log.error({ err, deviceUuid: ch.deviceUuid, channel: ch.channelNumber }, 'reconcile failed')
    }
  }

  /**
   * A momentary hold lives in memory: one the previous run did not release (stopped or killed mid-hold) is released
   * now. Its open 'on' command is closed (expired) so it never reaches the board, and an 'off' command waits for the
   * board like any other (issue 14: the safe state of a hold after a restart is off).
   */
  private async releaseInterruptedHolds (): Promise<void> {
    for (const ch of await this.repo.heldMomentary()) {
      const superseded = await this.commands.supersede(ch.deviceUuid, ch.channelNumber, 'hold interrupted by a gateway restart')
      try {
        const off = await this.turnOff(ch, { deviceUuid: ch.deviceUuid, channel: ch.channelNumber, action: 'off', source: 'system' })
        await this.ctx.events.log({ level: 'warning', type: 'relay_hold_interrupted', source: 'gateway', action: 'off', target: `${ch.deviceUuid}/${ch.channelNumber}`, payload: { superseded, command_id: off.commandId } })
      } catch (err) {
        this.log.error({ err, deviceUuid: ch.deviceUuid, channel: ch.channelNumber }, 'interrupted hold not released')
      }
    }
  }

  async channelById (id: number): Promise<ChannelRow | undefined> {
    return await this.repo.byId(id)
  }

  private async channel (uuid: string, n: number): Promise<ChannelRow> {
    const ch = await this.repo.channel(uuid, n)
    if (ch === undefined) throw new GatewayError('GW_ERR_RELAY_NOT_FOUND', `no relay channel ${n} on ${uuid}`)
    if (!ch.enabled) throw new GatewayError('GW_ERR_RELAY_DISABLED', `relay channel ${n} on ${uuid} is disabled`)
    return ch
  }

  private refuseIfEmergency (ch: ChannelRow): void {
    if (this.emergency.active) {
      throw new GatewayError('GW_ERR_EMERGENCY_ACTIVE', `emergency stop active: channel ${ch.channelNumber} on ${ch.deviceUuid} not turned on`)
    }
  }

  /** Requests that turn on a channel of a mutex group run one at a time, so two of them cannot both pass the rule. */
  private async turnOn (ch: ChannelRow, req: RelayRequest & { action: 'on' | 'pulse' }): Promise<RelayResult> {
    this.refuseIfEmergency(ch)
    const groups = [ch.mutexGroup, req.exclusive === undefined ? null : `exclusive:${req.exclusive.group}`].filter((g): g is string => g !== null)
    if (groups.length === 0) return await this.turnOnNow(ch, req)
    // Queued behind every earlier request of each of its groups (only earlier ones, so no cycle can form).
    const before = Promise.all(groups.map(g => this.groupQueue.get(g) ?? Promise.resolve()))
    const mine = before.then(async () => await this.turnOnNow(await this.channel(ch.deviceUuid, ch.channelNumber), req))
    const tail = mine.then(() => {}, () => {})
    for (const group of groups) {
      this.groupQueue.set(group, tail)
      void tail.then(() => { if (this.groupQueue.get(group) === tail) this.groupQueue.delete(group) })
    }
    return await mine
  }

  private async turnOnNow (ch: ChannelRow, req: RelayRequest & { action: 'on' | 'pulse' }): Promise<RelayResult> {
    this.refuseIfEmergency(ch)
    const params: Record<string, unknown> = { channel: ch.channelNumber, action: req.action }
    if (req.action === 'pulse') {
      const ms = req.durationMs ?? ch.pulseMs ?? this.ctx.config.relays.defaultPulseMs
      if (ch.maxOnMs !== null && ms > ch.maxOnMs) throw new GatewayError('GW_ERR_RELAY_BAD_REQUEST', `pulse of ${ms} ms is over the channel's max_on_ms`)
      params.duration_ms = ms
    }
    const turnedOff = await this.mutexOff(ch, req)
    // The group's offs took time: an emergency stop may have come in meanwhile.
    this.refuseIfEmergency(ch)
    await req.journal?.()
    const sent = await this.commands.send({ deviceUuid: ch.deviceUuid, deviceId: ch.deviceId, command: RELAY_COMMAND, params, source: req.source, username: req.user, commandId: req.commandId, fresh: req.freshId })
    if (req.action === 'on') {
      await this.repo.setDesired(ch.id, true, this.ctx.clock.now())
      if (ch.maxOnMs !== null) this.armMaxOn(ch)
    }
    this.checkAfter(ch, sent, req.action === 'on')
    return { commandId: sent.commandId, action: req.action, outcome: sent.outcome, turnedOff }
  }

  private async turnOff (ch: ChannelRow, req: RelayRequest): Promise<RelayResult> {
    this.clearChannelTimers(ch.id)
    await req.journal?.()
    const sent = await this.commands.send({ deviceUuid: ch.deviceUuid, deviceId: ch.deviceId, command: RELAY_COMMAND, params: { channel: ch.channelNumber, action: 'off' }, source: req.source, username: req.user, commandId: req.commandId, fresh: req.freshId })
    await this.repo.setDesired(ch.id, false, this.ctx.clock.now())
    this.checkAfter(ch, sent, false)
    return { commandId: sent.commandId, action: 'off', outcome: sent.outcome, turnedOff: [] }
  }

  /** The mutex rule: every other channel of the group(s) that is not confirmed off is turned off, and must ack. */
  private async mutexOff (ch: ChannelRow, req: RelayRequest): Promise<number[]> {
    const extra = (req.exclusive?.channelIds ?? []).filter(id => id !== ch.id)
    if (ch.mutexGroup === null && extra.length === 0) return []
    const candidates = new Map<number, ChannelRow>()
    for (const o of ch.mutexGroup === null ? [] : await this.repo.mutexOthers(ch.mutexGroup, ch.id)) candidates.set(o.id, o)
    for (const o of extra.length === 0 ? [] : await this.repo.byIds(extra)) candidates.set(o.id, o)
    const others = [...candidates.values()].filter(o => o.currentState !== false || o.desiredState === true)
    if (others.length === 0) return []
    const group = [ch.mutexGroup, req.exclusive?.group].filter(g => g != null).join('+')
    // Sent one after the other (each send writes its row: parallel writes would open nested transactions on the one
    // SQLite connection), then every acknowledgement is awaited together.
    const outcomes = []
    for (const o of others) outcomes.push((await this.turnOff(o, { ...req, commandId: undefined, freshId: undefined, action: 'off' })).outcome)
    const results = await Promise.all(outcomes)
    const failed = results.filter(r => r.status !== 'acked')
    if (failed.length > 0) {
      await this.ctx.events.log({ level: 'warning', type: 'relay_mutex_failed', source: 'gateway', action: 'on', target: `${ch.deviceUuid}/${ch.channelNumber}`, username: req.user, payload: { group, failed: failed.map(f => f.commandId) } })
      throw new GatewayError('GW_ERR_RELAY_MUTEX_FAILED', `mutex group ${group}: ${failed.length} channel(s) did not confirm off`)
    }
    return others.map(o => o.id)
  }

  /** Desired vs current: once the command is acknowledged, the board has one more timeout to report the state. */
  private checkAfter (ch: ChannelRow, sent: SentCommand, desired: boolean): void {
    void sent.outcome.then(o => {
      // An acknowledgement can arrive while the gateway stops: no check is armed after stop() (the database closes).
      if (o.status !== 'acked' || this.stopped) return
      const timer = this.ctx.clock.setTimeout(() => {
        this.checks.delete(timer)
        this.compare(ch.id, desired).catch(err => this.log.error({ err, relayId: ch.id }, 'relay state check failed'))
      }, this.ctx.config.commands.ackTimeoutMs)
      this.checks.add(timer)
    })
  }

  private async compare (id: number, desired: boolean): Promise<void> {
    const now = await this.repo.byId(id)
    if (now === undefined || now.desiredState !== desired || now.currentState === desired) return
    await this.ctx.events.log({ level: 'warning', type: 'relay_state_mismatch', source: 'gateway', target: `${now.deviceUuid}/${now.channelNumber}`, payload: { desired, current: now.currentState } })
  }

  private armMaxOn (ch: ChannelRow): void {
    this.maxOn.get(ch.id)?.cancel()
    this.maxOn.set(ch.id, this.ctx.clock.setTimeout(() => {
      this.maxOn.delete(ch.id)
      void this.autoOff(ch)
    }, ch.maxOnMs ?? 0))
  }

  private async autoOff (ch: ChannelRow): Promise<void> {
    try {
      await this.turnOff(ch, { deviceUuid: ch.deviceUuid, channel: ch.channelNumber, action: 'off', source: 'system' })
      await this.ctx.events.log({ level: 'warning', type: 'relay_max_on', source: 'gateway', action: 'off', target: `${ch.deviceUuid}/${ch.channelNumber}`, payload: { max_on_ms: ch.maxOnMs } })
    } catch (err) {
      this.log.error({ err, deviceUuid: ch.deviceUuid, channel: ch.channelNumber }, 'max-on auto-off failed')
    }
  }

  private releaseHoldsOf (clientId: string): void {
    for (const [id, hold] of this.holds) {
      if (hold.clientId !== clientId) continue
      hold.timer.cancel()
      this.holds.delete(id)
      void this.repo.byId(id).then(ch => {
        if (ch !== undefined) return this.turnOff(ch, { deviceUuid: ch.deviceUuid, channel: ch.channelNumber, action: 'off', source: 'system' })
      }).catch(err => this.log.error({ err, clientId }, 'hold release failed'))
    }
  }

  private clearChannelTimers (id: number): void {
    this.holds.get(id)?.timer.cancel()
    this.holds.delete(id)
    this.maxOn.get(id)?.cancel()
    this.maxOn.delete(id)
  }

  private cancelTimers (): void {
    for (const id of [...this.holds.keys(), ...this.maxOn.keys()]) this.clearChannelTimers(id)
  }
}

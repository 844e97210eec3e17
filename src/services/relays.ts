import type { CommandSource } from '../../entities/index.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import { GatewayError } from '../errors.js'
import type { EventMap } from '../events.js'
import type { RelayAction } from '../protocol/index.js'
import type { Logger } from '../log.js'
import type { RelaysRepository, BareChannel, ChannelRow } from '../persistence/repositories/relays.js'
import { RELAY_COMMAND, type CommandService, type SentCommand } from './commands.js'
import type { EmergencyLatch } from './emergency-latch.js'
import type { ControlJournal } from './journal.js'
import { journaled, type RelayRequest, type RelayResult } from './relay-request.js'
import { RelayTimers } from './relay-timers.js'
import { reconcile, releaseInterruptedHolds, type RecoveryDeps } from './relay-recovery.js'

export type { RelayRequest, RelayResult } from './relay-request.js'

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
  private readonly timers: RelayTimers
  private readonly recovery: RecoveryDeps
  private readonly groupQueue = new Map<string, Promise<void>>()
  /** Boards whose first state report since they (re)connected is still to come: it is reconciled. */
  private readonly reconnected = new Set<string>()
  private readonly onDisconnect = ({ clientId }: EventMap['client.disconnected'][0]): void => {
    this.timers.releaseHoldsOf(clientId)
  }

  private readonly onOnline = ({ uuid }: EventMap['device.online'][0]): void => { this.reconnected.add(uuid) }
  private readonly onOffline = ({ uuid }: EventMap['device.offline'][0]): void => { this.reconnected.delete(uuid) }

  private readonly commands: CommandService
  private readonly journal: ControlJournal

  constructor (private readonly ctx: Services, private readonly emergency: EmergencyLatch) {
    this.repo = ctx.repos.relays
    this.commands = ctx.commands
    this.journal = ctx.journal
    this.log = ctx.log.child({ module: 'relays' })
    const systemOff = async (ch: ChannelRow): Promise<RelayResult> => await this.systemOff(ch)
    this.timers = new RelayTimers({ ctx, repo: this.repo, log: this.log, turnOff: systemOff })
    this.recovery = { ctx, repo: this.repo, commands: this.commands, log: this.log, systemOff }
  }

  async start (): Promise<void> {
    this.ctx.bus.on('client.disconnected', this.onDisconnect)
    this.ctx.bus.on('device.online', this.onOnline)
    this.ctx.bus.on('device.offline', this.onOffline)
    await releaseInterruptedHolds(this.recovery)
  }

  async stop (): Promise<void> {
    this.ctx.bus.off('client.disconnected', this.onDisconnect)
    this.ctx.bus.off('device.online', this.onOnline)
    this.ctx.bus.off('device.offline', this.onOffline)
    this.timers.stop()
  }

  /** The one entry point for panels (MQTT) and the API. Throws a GatewayError when the request is refused. */
  async setChannel (req: RelayRequest): Promise<RelayResult> {
    return await journaled(this.journal, req, req.action, async r => await this.setChannelNow(r))
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
    return await journaled(this.journal, { ...req, action: 'on' }, 'hold', async r => await this.holdNow(r))
  }

  private async holdNow (req: Omit<RelayRequest, 'action'> & { action?: RelayAction }): Promise<RelayResult> {
    const ch = await this.channel(req.deviceUuid, req.channel)
    const holdMs = req.durationMs ?? this.ctx.config.relays.defaultHoldMs
    if (holdMs > this.ctx.config.relays.maxHoldMs) {
      throw new GatewayError('GW_ERR_RELAY_BAD_REQUEST', `hold of ${holdMs} ms is over relays.maxHoldMs`)
    }
    const result = await this.turnOn(ch, { ...req, action: 'on' })
    // Only the channel: the request's command id (and journal) belong to its 'on'.
    const release = (): void => {
      void this.release({ deviceUuid: req.deviceUuid, channel: req.channel, source: 'system' }, 'hold elapsed')
    }
    this.timers.hold(ch, req.clientId, holdMs, release)
    return { ...result, holdMs }
  }

  async release (
    req: Pick<RelayRequest, 'deviceUuid' | 'channel' | 'user' | 'source'>,
    why = 'released'
  ): Promise<RelayResult> {
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
  async allOff (
    channels: BareChannel[],
    source: CommandSource,
    opts: { onPublished?: () => void } = {}
  ): Promise<Map<string, SentCommand[]>> {
    this.timers.cancelAll()
    const targets = channels.map(ch => ({ uuid: ch.deviceUuid, channel: ch.channelNumber }))
    this.commands.supersedeNow(targets, 'superseded by the emergency stop')
    const sent = await this.commands.sendMany(channels.map(ch => ({
      deviceUuid: ch.deviceUuid,
      deviceId: ch.deviceId,
      command: RELAY_COMMAND,
      params: { channel: ch.channelNumber, action: 'off' },
      source
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
    for (const [k, v] of Object.entries(channels)) {
      if (/^\d+$/.test(k) && typeof v === 'boolean') states.set(Number(k), v)
    }
    const first = this.reconnected.delete(uuid)
    for (const ch of await this.repo.reportState(uuid, states, this.ctx.clock.now())) {
      // A channel seen on without a running limit (switched on before a restart, or locally) still gets one.
      if (ch.currentState === true && ch.maxOnMs !== null && !this.timers.hasMaxOn(ch.id)) this.timers.armMaxOn(ch)
      if (first) await reconcile(this.recovery, ch)
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
      const what = `channel ${ch.channelNumber} on ${ch.deviceUuid}`
      throw new GatewayError('GW_ERR_EMERGENCY_ACTIVE', `emergency stop active: ${what} not turned on`)
    }
  }

  /** Requests that turn on a channel of a mutex group run one at a time, so two of them cannot both pass the rule. */
  private async turnOn (ch: ChannelRow, req: RelayRequest & { action: 'on' | 'pulse' }): Promise<RelayResult> {
    this.refuseIfEmergency(ch)
    const exclusive = req.exclusive === undefined ? null : `exclusive:${req.exclusive.group}`
    const groups = [ch.mutexGroup, exclusive].filter((g): g is string => g !== null)
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
      if (ch.maxOnMs !== null && ms > ch.maxOnMs) {
        throw new GatewayError('GW_ERR_RELAY_BAD_REQUEST', `pulse of ${ms} ms is over the channel's max_on_ms`)
      }
      params.duration_ms = ms
    }
    const turnedOff = await this.mutexOff(ch, req)
    // The group's offs took time: an emergency stop may have come in meanwhile.
    this.refuseIfEmergency(ch)
    await req.journal?.()
    const sent = await this.commands.send({
      deviceUuid: ch.deviceUuid,
      deviceId: ch.deviceId,
      command: RELAY_COMMAND,
      params,
      source: req.source,
      username: req.user,
      commandId: req.commandId,
      fresh: req.freshId
    })
    if (req.action === 'on') {
      await this.repo.setDesired(ch.id, true, this.ctx.clock.now())
      if (ch.maxOnMs !== null) this.timers.armMaxOn(ch)
    }
    this.timers.checkAfter(ch, sent, req.action === 'on')
    return { commandId: sent.commandId, action: req.action, outcome: sent.outcome, turnedOff }
  }

  /** The gateway's own 'off' (no user, no journal row). */
  private async systemOff (ch: ChannelRow): Promise<RelayResult> {
    const req = { deviceUuid: ch.deviceUuid, channel: ch.channelNumber, action: 'off', source: 'system' } as const
    return await this.turnOff(ch, req)
  }

  private async turnOff (ch: ChannelRow, req: RelayRequest): Promise<RelayResult> {
    this.timers.clearChannel(ch.id)
    await req.journal?.()
    const sent = await this.commands.send({
      deviceUuid: ch.deviceUuid,
      deviceId: ch.deviceId,
      command: RELAY_COMMAND,
      params: { channel: ch.channelNumber, action: 'off' },
      source: req.source,
      username: req.user,
      commandId: req.commandId,
      fresh: req.freshId
    })
    await this.repo.setDesired(ch.id, false, this.ctx.clock.now())
    this.timers.checkAfter(ch, sent, false)
    return { commandId: sent.commandId, action: 'off', outcome: sent.outcome, turnedOff: [] }
  }

  /** The mutex rule: every other channel of the group(s) that is not confirmed off is turned off, and must ack. */
  private async mutexOff (ch: ChannelRow, req: RelayRequest): Promise<number[]> {
    const extra = (req.exclusive?.channelIds ?? []).filter(id => id !== ch.id)
    if (ch.mutexGroup === null && extra.length === 0) return []
    const candidates = new Map<number, ChannelRow>()
    const inGroup = ch.mutexGroup === null ? [] : await this.repo.mutexOthers(ch.mutexGroup, ch.id)
    for (const o of inGroup) candidates.set(o.id, o)
    for (const o of extra.length === 0 ? [] : await this.repo.byIds(extra)) candidates.set(o.id, o)
    const others = [...candidates.values()].filter(o => o.currentState !== false || o.desiredState === true)
    if (others.length === 0) return []
    const group = [ch.mutexGroup, req.exclusive?.group].filter(g => g != null).join('+')
    // Sent one after the other (each send writes its row: parallel writes would open nested transactions on the one
    // SQLite connection), then every acknowledgement is awaited together.
    const outcomes = []
    for (const o of others) {
      const off = await this.turnOff(o, { ...req, commandId: undefined, freshId: undefined, action: 'off' })
      outcomes.push(off.outcome)
    }
    const results = await Promise.all(outcomes)
    const failed = results.filter(r => r.status !== 'acked')
    if (failed.length > 0) {
      await this.ctx.events.log({
        level: 'warning',
        type: 'relay_mutex_failed',
        source: 'gateway',
        action: 'on',
        target: `${ch.deviceUuid}/${ch.channelNumber}`,
        username: req.user,
        payload: { group, failed: failed.map(f => f.commandId) }
      })
      const n = failed.length
      throw new GatewayError('GW_ERR_RELAY_MUTEX_FAILED', `mutex group ${group}: ${n} channel(s) did not confirm off`)
    }
    return others.map(o => o.id)
  }
}

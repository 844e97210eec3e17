import type { Client, Subscription } from 'aedes'
import type { CommandStatus } from '../../entities/index.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import { GatewayError } from '../errors.js'
import type { EventMap } from '../events.js'
import type { CommandResponsePayload } from '../protocol/index.js'
import type { Logger } from '../log.js'
import type { CommandsRepository, CommandRow } from '../persistence/repositories/commands.js'
import {
  isFinal, newRow, RELAY_COMMAND,
  type CommandOutcome, type CommandRequest, type FinalStatus, type SentCommand, type Tracked
} from './command-types.js'
import { CommandWrites } from './command-writes.js'
import { CommandDelivery } from './command-delivery.js'

export {
  RELAY_COMMAND, type CommandOutcome, type CommandRequest, type FinalStatus, type SentCommand
} from './command-types.js'

/**
 * The lifecycle of every command to a device (SPEC §4 Commands): pending → sent → acked | failed | timeout, or
 * expired when the device stayed offline past `commands.ttlMs`. Sent QoS 1; re-sent after `commands.ackTimeoutMs`
 * up to `commands.maxAttempts`; closed by the device's `response`. Open commands are reloaded at start.
 *
 * A command is published before its row is written (the row is written as 'sent'), so the emergency fan-out does
 * not wait on the disk; `send()` resolves only once the row is durable, and the writes of one command are chained.
 */
export class CommandService implements Service {
  readonly name = 'commands'
  private readonly open = new Map<string, Tracked>()
  private readonly deviceIds = new Map<string, number>()
  private readonly creating = new Map<string, Promise<SentCommand>>()
  private readonly writes: CommandWrites
  private readonly delivery: CommandDelivery
  private readonly repo: CommandsRepository
  private readonly log: Logger
  private readonly onOnline = ({ uuid }: EventMap['device.online'][0]): void => { this.delivery.deviceOnline(uuid) }
  private readonly onOffline = ({ uuid }: EventMap['device.offline'][0]): void => { this.delivery.online.delete(uuid) }
  // A UUID provisioned again after a delete gets a new row id.
  private readonly onDeleted = ({ uuid }: EventMap['device.deleted'][0]): void => {
    this.deviceIds.delete(uuid)
    this.delivery.online.delete(uuid)
  }

  private readonly onSubscribe = (subs: Subscription[], client: Client): void => {
    this.delivery.subscribed(subs, client)
  }

  constructor (private readonly ctx: Services) {
    this.repo = ctx.repos.commands
    this.log = ctx.log.child({ module: 'commands' })
    this.writes = new CommandWrites(this.repo, this.log)
    this.delivery = new CommandDelivery({
      ctx,
      log: this.log,
      writes: this.writes,
      open: this.open,
      finish: (t, status, message) => this.finish(t, status, message),
      event: async (t, type, payload) => await this.event(t, 'warning', type, payload)
    })
  }

  async start (): Promise<void> {
    this.ctx.bus.on('device.online', this.onOnline)
    this.ctx.bus.on('device.offline', this.onOffline)
    this.ctx.bus.on('device.deleted', this.onDeleted)
    this.ctx.broker.aedes.on('subscribe', this.onSubscribe)
    const now = this.ctx.clock.now()
    let expired = 0
    for (const row of await this.repo.open()) {
      // After a restart nothing is connected yet: every open command waits for its device again.
      const tracked = this.track({ ...row, status: 'pending' }, row.deviceUuid)
      tracked.inserted = true
      if (row.expiresAt !== null && row.expiresAt <= now) {
        expired++
        this.finish(tracked, 'expired', 'device offline past the time to live (found at start)')
      } else {
        this.delivery.armExpiry(tracked)
      }
    }
    if (this.open.size > 0 || expired > 0) {
      this.log.info({ reloaded: this.open.size, expired }, 'open commands reloaded')
    }
  }

  async stop (): Promise<void> {
    this.ctx.bus.off('device.online', this.onOnline)
    this.ctx.bus.off('device.offline', this.onOffline)
    this.ctx.bus.off('device.deleted', this.onDeleted)
    this.ctx.broker.aedes.off('subscribe', this.onSubscribe)
    for (const t of this.open.values()) { t.ackTimer?.cancel(); t.expiryTimer?.cancel() }
    await Promise.all([...this.open.values()].map(t => t.write))
    this.open.clear()
  }

  isOnline (uuid: string): boolean { return this.delivery.online.has(uuid) }

  /** Is a relay command for this channel still open (pending or sent)? */
  hasOpenRelay (uuid: string, channel: number): boolean {
    for (const t of this.open.values()) {
      if (t.uuid === uuid && t.row.command === RELAY_COMMAND && t.row.payload.channel === channel) return true
    }
    return false
  }

  /**
   * Closes the open relay commands of one channel as `expired` with `why` (a hold interrupted by a restart: its 'on'
   * must not reach the board after the gateway has decided the channel is off). Resolves once recorded.
   */
  async supersede (uuid: string, channel: number, why: string): Promise<string[]> {
    const closed = this.supersedeNow([{ uuid, channel }], why)
    await Promise.all(closed.map(t => t.write))
    return closed.map(t => t.row.commandId)
  }

  /**
   * The same for many channels, synchronously (the emergency fan-out: an 'on' still waiting for an offline board
   * must never follow the stop's 'off'); the rows are written in the background.
   */
  supersedeNow (channels: Array<{ uuid: string, channel: number }>, why: string): Tracked[] {
    if (this.open.size === 0) return []
    const keys = new Set(channels.map(c => `${c.uuid}/${c.channel}`))
    const closed: Tracked[] = []
    for (const t of [...this.open.values()]) {
      if (t.row.command !== RELAY_COMMAND || !keys.has(`${t.uuid}/${String(t.row.payload.channel)}`)) continue
      this.finish(t, 'expired', why)
      closed.push(t)
    }
    return closed
  }

  /** A command's status now: from memory while it is open, else from its row; undefined for an unknown id. */
  async statusOf (commandId: string): Promise<CommandStatus | undefined> {
    return this.open.get(commandId)?.row.status ?? (await this.repo.find(commandId))?.status
  }

  /** Creates, sends (if the device is online) and persists one command; idempotent on commandId. */
  async send (req: CommandRequest): Promise<SentCommand> {
    const id = req.commandId
    if (id === undefined || req.fresh === true) return await this.create(req)
    // A second request with the same id while the first is still being created waits for it.
    const inflight = this.creating.get(id)
    if (inflight !== undefined) return { ...(await inflight), duplicate: true }
    const creating = this.create(req)
    this.creating.set(id, creating)
    try {
      return await creating
    } finally {
      this.creating.delete(id)
    }
  }

  private async create (req: CommandRequest): Promise<SentCommand> {
    const existing = req.fresh === true ? undefined : await this.existing(req.commandId)
    if (existing !== undefined) return existing
    const deviceId = await this.resolveDevice(req)
    const tracked = this.track(this.row(req, deviceId), req.deviceUuid)
    void this.delivery.attempt(tracked)
    tracked.write = this.repo.insert([{ ...tracked.row }])
    tracked.inserted = true
    await tracked.write
    return { commandId: tracked.row.commandId, duplicate: false, outcome: tracked.outcome }
  }

  /**
   * Many commands at once, published first, then written in one transaction (emergency stop). With `deviceId` in
   * every request, all are handed to the broker before the first await: one pass, no turn of the event loop lost.
   */
  async sendMany (reqs: CommandRequest[], opts: { onPublished?: () => void } = {}): Promise<SentCommand[]> {
    const tracked: Tracked[] = []
    const published: Array<Promise<void>> = []
    for (const req of reqs) {
      const deviceId = req.deviceId ?? await this.resolveDevice(req)
      const t = this.track(this.row(req, deviceId), req.deviceUuid)
      const p = this.delivery.attempt(t)
      if (p !== undefined) published.push(p)
      tracked.push(t)
    }
    // better-sqlite3 blocks the event loop while it commits: write once the broker has handed every command out.
    await Promise.all(published)
    opts.onPublished?.()
    const batch = this.repo.insert(tracked.map(t => ({ ...t.row })))
    for (const t of tracked) { t.write = batch; t.inserted = true }
    await batch
    return tracked.map(t => ({ commandId: t.row.commandId, duplicate: false, outcome: t.outcome }))
  }

  /** A device's `response`: closes the command, once; a response naming another device's command is ignored. */
  async respond (uuid: string, res: CommandResponsePayload): Promise<void> {
    const t = this.open.get(res.command_id)
    if (t === undefined) {
      this.log.debug({ deviceUuid: uuid, commandId: res.command_id }, 'response for no open command')
      return
    }
    if (t.uuid !== uuid) {
      const ids = { deviceUuid: uuid, commandId: res.command_id, owner: t.uuid }
      this.log.warn(ids, 'response from another device ignored')
      return
    }
    const ok = res.status === 'ok'
    this.finish(t, ok ? 'acked' : 'failed', res.message)
    if (!ok) {
      await this.event(t, 'error', 'command_failed', { message: res.message ?? null }, `device:${uuid}`)
    }
    await t.write
  }

  private async existing (commandId: string | undefined): Promise<SentCommand | undefined> {
    if (commandId === undefined) return undefined
    const open = this.open.get(commandId)
    if (open !== undefined) return { commandId, duplicate: true, outcome: open.outcome }
    const row = await this.repo.find(commandId)
    if (row === null) return undefined
    const status = isFinal(row.status) ? row.status : 'timeout'
    const outcome = { commandId, status, message: row.message ?? undefined, latencyMs: row.latencyMs ?? undefined }
    return { commandId, duplicate: true, outcome: Promise.resolve(outcome) }
  }

  private async resolveDevice (req: CommandRequest): Promise<number> {
    const known = req.deviceId ?? this.deviceIds.get(req.deviceUuid)
    if (known !== undefined) return known
    const id = await this.repo.deviceId(req.deviceUuid)
    if (id === undefined) throw new GatewayError('GW_ERR_COMMAND_DEVICE_UNKNOWN', `no device ${req.deviceUuid}`)
    this.deviceIds.set(req.deviceUuid, id)
    return id
  }

  private row (req: CommandRequest, deviceId: number): CommandRow {
    return newRow(req, deviceId, this.ctx.clock.now(), this.ctx.config.commands.ttlMs)
  }

  private track (row: CommandRow, uuid: string): Tracked {
    let settle!: (o: CommandOutcome) => void
    const outcome = new Promise<CommandOutcome>(resolve => { settle = resolve })
    const t: Tracked = { row, uuid, write: Promise.resolve(), inserted: false, settle, outcome }
    this.open.set(row.commandId, t)
    return t
  }

  private finish (t: Tracked, status: FinalStatus, message?: string): void {
    t.ackTimer?.cancel()
    t.expiryTimer?.cancel()
    const now = this.ctx.clock.now()
    const latencyMs = status === 'acked' || status === 'failed' ? now - (t.row.sentAt ?? now) : null
    Object.assign(t.row, { status, message: message ?? null, completedAt: now, latencyMs })
    this.writes.persist(t, { status, message: message ?? null, completedAt: now, latencyMs })
    this.open.delete(t.row.commandId)
    const outcome: CommandOutcome = { commandId: t.row.commandId, status, message, latencyMs: latencyMs ?? undefined }
    const { commandId, command, createdAt } = t.row
    const elapsedMs = now - createdAt
    const { latencyMs: ms } = outcome
    this.ctx.bus.emit('command.finished', { commandId, deviceUuid: t.uuid, command, status, latencyMs: ms, elapsedMs })
    void t.write.then(() => t.settle(outcome))
  }

  /** A command's event (`payload` gets its command_id); `source` the gateway unless the device said so. */
  private async event (t: Tracked, level: 'warning' | 'error', type: string, payload: Record<string, unknown>,
    source = 'gateway'): Promise<void> {
    const username = t.row.username ?? undefined
    const body = { command_id: t.row.commandId, ...payload }
    await this.ctx.events.log({ level, type, source, action: t.row.command, target: t.uuid, username, payload: body })
  }
}

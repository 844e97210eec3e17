import { randomUUID } from 'node:crypto'
import type { Client, Subscription } from 'aedes'
import { covers } from '../auth/topic-match.js'
import type { CommandSource, CommandStatus } from '../../entities/index.js'
import type { Timer } from '../clock.js'
import type { AppContext, Service } from '../context.js'
import { GatewayError } from '../errors.js'
import type { EventMap } from '../events.js'
import { controlTopics, type CommandResponsePayload } from '../gateway/topics.js'
import type { Logger } from '../log.js'
import { CommandsRepository, type CommandRow } from '../persistence/repositories/commands.js'

/** The command name of relay commands: they go on `autocore/relays/{uuid}/command` with the params inline. */
export const RELAY_COMMAND = 'relay'

export interface CommandRequest {
  deviceUuid: string
  /** Known already (relay rows carry it): saves a lookup on the emergency path. */
  deviceId?: number
  command: string
  params: Record<string, unknown>
  source: CommandSource
  username?: string
  /** Given by the requester to make a retried request idempotent; a UUID is generated otherwise. */
  commandId?: string
}

export type FinalStatus = Extract<CommandStatus, 'acked' | 'failed' | 'timeout' | 'expired'>
export interface CommandOutcome { commandId: string, status: FinalStatus, message?: string, latencyMs?: number }
export interface SentCommand { commandId: string, duplicate: boolean, outcome: Promise<CommandOutcome> }

interface Tracked {
  row: CommandRow
  uuid: string
  ackTimer?: Timer
  expiryTimer?: Timer
  /** DB writes of one command, chained so an update never overtakes the insert. */
  write: Promise<void>
  /** Until the insert is issued, changes only touch `row` (the insert takes its snapshot). */
  inserted: boolean
  settle: (o: CommandOutcome) => void
  outcome: Promise<CommandOutcome>
}

const isFinal = (s: CommandStatus): s is FinalStatus => s === 'acked' || s === 'failed' || s === 'timeout' || s === 'expired'

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
  private readonly online = new Set<string>()
  private readonly deviceIds = new Map<string, number>()
  private readonly creating = new Map<string, Promise<SentCommand>>()
  private pendingWrites: Array<{ commandId: string, patch: Partial<CommandRow> }> = []
  private nextFlush?: Promise<void>
  private readonly repo: CommandsRepository
  private readonly log: Logger
  private readonly onOnline = ({ uuid }: EventMap['device.online'][0]): void => { this.deviceOnline(uuid) }
  private readonly onOffline = ({ uuid }: EventMap['device.offline'][0]): void => { this.online.delete(uuid) }
  // A UUID provisioned again after a delete gets a new row id.
  private readonly onDeleted = ({ uuid }: EventMap['device.deleted'][0]): void => { this.deviceIds.delete(uuid); this.online.delete(uuid) }
  private readonly onSubscribe = (subs: Subscription[], client: Client): void => { this.subscribed(subs, client) }

  constructor (private readonly ctx: AppContext) {
    this.repo = new CommandsRepository(ctx.db.dataSource)
    this.log = ctx.log.child({ module: 'commands' })
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
        this.armExpiry(tracked)
      }
    }
    if (this.open.size > 0 || expired > 0) this.log.info({ reloaded: this.open.size, expired }, 'open commands reloaded')
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

  isOnline (uuid: string): boolean { return this.online.has(uuid) }

  /** Is a relay command for this channel still open (pending or sent)? */
  hasOpenRelay (uuid: string, channel: number): boolean {
    for (const t of this.open.values()) if (t.uuid === uuid && t.row.command === RELAY_COMMAND && t.row.payload.channel === channel) return true
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
    if (id === undefined) return await this.create(req)
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
    const existing = await this.existing(req.commandId)
    if (existing !== undefined) return existing
    const tracked = this.track(this.newRow(req, await this.resolveDevice(req)), req.deviceUuid)
    void this.attempt(tracked)
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
      const t = this.track(this.newRow(req, req.deviceId ?? await this.resolveDevice(req)), req.deviceUuid)
      const p = this.attempt(t)
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
      this.log.warn({ deviceUuid: uuid, commandId: res.command_id, owner: t.uuid }, 'response from another device ignored')
      return
    }
    const ok = res.status === 'ok'
    this.finish(t, ok ? 'acked' : 'failed', res.message)
    if (!ok) {
      await this.ctx.events.log({ level: 'error', type: 'command_failed', source: `device:${uuid}`, action: t.row.command, target: uuid, username: t.row.username ?? undefined, payload: { command_id: t.row.commandId, message: res.message ?? null } })
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
    return { commandId, duplicate: true, outcome: Promise.resolve({ commandId, status, message: row.message ?? undefined, latencyMs: row.latencyMs ?? undefined }) }
  }

  private async resolveDevice (req: CommandRequest): Promise<number> {
    const known = req.deviceId ?? this.deviceIds.get(req.deviceUuid)
    if (known !== undefined) return known
    const id = await this.repo.deviceId(req.deviceUuid)
    if (id === undefined) throw new GatewayError('GW_ERR_COMMAND_DEVICE_UNKNOWN', `no device ${req.deviceUuid}`)
    this.deviceIds.set(req.deviceUuid, id)
    return id
  }

  private newRow (req: CommandRequest, deviceId: number): CommandRow {
    const now = this.ctx.clock.now()
    return {
      commandId: req.commandId ?? randomUUID(),
      deviceId,
      source: req.source,
      username: req.username ?? null,
      command: req.command,
      payload: req.params,
      status: 'pending',
      attempts: 0,
      message: null,
      createdAt: now,
      sentAt: null,
      completedAt: null,
      expiresAt: now + this.ctx.config.commands.ttlMs,
      latencyMs: null
    }
  }

  private track (row: CommandRow, uuid: string): Tracked {
    let settle!: (o: CommandOutcome) => void
    const outcome = new Promise<CommandOutcome>(resolve => { settle = resolve })
    const t: Tracked = { row, uuid, write: Promise.resolve(), inserted: false, settle, outcome }
    this.open.set(row.commandId, t)
    return t
  }

  /**
   * Publishes the command if its device is online; otherwise it stays pending until device.online, and expires
   * at `expiresAt` if still pending then (the expiry timer is armed the first time a command waits: a command
   * whose device is online, the emergency fan-out's 200, needs none).
   */
  private attempt (t: Tracked): Promise<void> | undefined {
    if (!this.online.has(t.uuid)) {
      if (t.row.status !== 'pending') this.persist(t, { status: 'pending' })
      t.row.status = 'pending'
      if (t.expiryTimer === undefined) this.armExpiry(t)
      return undefined
    }
    t.row.attempts++
    t.row.status = 'sent'
    t.row.sentAt = this.ctx.clock.now()
    const { commandId, command, payload } = t.row
    const [topic, body] = command === RELAY_COMMAND
      ? [controlTopics.relayCommand(t.uuid), { command_id: commandId, ...payload }]
      : [controlTopics.deviceCommand(t.uuid), { command_id: commandId, command, params: payload }]
    const published = this.ctx.broker.publish(topic, body, { qos: 1 }).catch(err => this.log.error({ err, commandId }, 'command publish failed'))
    this.persist(t, { status: 'sent', attempts: t.row.attempts, sentAt: t.row.sentAt })
    t.ackTimer?.cancel()
    t.ackTimer = this.ctx.clock.setTimeout(() => this.ackTimedOut(t), this.ctx.config.commands.ackTimeoutMs)
    return published
  }

  private ackTimedOut (t: Tracked): void {
    if (isFinal(t.row.status)) return
    if (t.row.attempts >= this.ctx.config.commands.maxAttempts) {
      this.finish(t, 'timeout', `no response after ${t.row.attempts} attempts`)
      void this.ctx.events.log({ level: 'warning', type: 'command_timeout', source: 'gateway', action: t.row.command, target: t.uuid, username: t.row.username ?? undefined, payload: { command_id: t.row.commandId, attempts: t.row.attempts } })
      return
    }
    void this.attempt(t)
  }

  private armExpiry (t: Tracked): void {
    const expiresAt = t.row.expiresAt ?? Number.POSITIVE_INFINITY
    t.expiryTimer?.cancel()
    t.expiryTimer = this.ctx.clock.setTimeout(() => {
      if (t.row.status !== 'pending') return
      this.finish(t, 'expired', 'device offline past the time to live')
      void this.ctx.events.log({ level: 'warning', type: 'command_expired', source: 'gateway', action: t.row.command, target: t.uuid, username: t.row.username ?? undefined, payload: { command_id: t.row.commandId } })
    }, Math.max(0, expiresAt - this.ctx.clock.now()))
  }

  private deviceOnline (uuid: string): void {
    this.online.add(uuid)
    const now = this.ctx.clock.now()
    for (const t of this.open.values()) {
      if (t.uuid !== uuid || t.row.status !== 'pending') continue
      if (t.row.expiresAt !== null && t.row.expiresAt <= now) this.finish(t, 'expired', 'device offline past the time to live')
      else void this.attempt(t)
    }
  }

  /**
   * A device subscribed to its command topic: what was sent on its device.online went out before the subscription
   * existed and, on a clean session, reached no one ([MQTT-3.3.5-1] delivers only to matching subscriptions). It is
   * sent again at once with the same command id (boards never carry out one id twice) instead of after ackTimeoutMs.
   */
  private subscribed (subs: Subscription[], client: Client): void {
    const p = this.ctx.hooks.principalOf(client)
    if (p?.kind !== 'device' || !this.online.has(p.uuid)) return
    const uuid = p.uuid
    const mine = [controlTopics.relayCommand(uuid), controlTopics.deviceCommand(uuid)]
    if (!subs.some(s => mine.some(topic => covers(s.topic, topic)))) return
    for (const t of this.open.values()) {
      if (t.uuid === uuid && t.row.status === 'sent') void this.attempt(t)
    }
  }

  private finish (t: Tracked, status: FinalStatus, message?: string): void {
    t.ackTimer?.cancel()
    t.expiryTimer?.cancel()
    const now = this.ctx.clock.now()
    const latencyMs = status === 'acked' || status === 'failed' ? now - (t.row.sentAt ?? now) : null
    Object.assign(t.row, { status, message: message ?? null, completedAt: now, latencyMs })
    this.persist(t, { status, message: message ?? null, completedAt: now, latencyMs })
    this.open.delete(t.row.commandId)
    const outcome: CommandOutcome = { commandId: t.row.commandId, status, message, latencyMs: latencyMs ?? undefined }
    this.ctx.bus.emit('command.finished', { commandId: t.row.commandId, deviceUuid: t.uuid, command: t.row.command, status, latencyMs: outcome.latencyMs, elapsedMs: now - t.row.createdAt })
    void t.write.then(() => t.settle(outcome))
  }

  private persist (t: Tracked, patch: Partial<CommandRow>): void {
    if (!t.inserted) return
    t.write = t.write.then(() => this.batched(t.row.commandId, patch)).catch(err => {
      this.log.error({ err, commandId: t.row.commandId }, 'command not stored')
    })
  }

  /**
   * Updates queued in the same turn of the event loop go to the store in one transaction: better-sqlite3 is
   * synchronous, so 200 acknowledgements written one by one (200 fsyncs) would stall the broker for everyone.
   */
  private async batched (commandId: string, patch: Partial<CommandRow>): Promise<void> {
    this.pendingWrites.push({ commandId, patch })
    this.nextFlush ??= new Promise<void>(resolve => setImmediate(resolve)).then(async () => {
      const batch = this.pendingWrites
      this.pendingWrites = []
      this.nextFlush = undefined
      await this.repo.updateMany(batch)
    })
    return await this.nextFlush
  }
}

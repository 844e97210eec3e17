import { performance } from 'node:perf_hooks'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { InboundMessage, PublishVerdict } from '../broker/pipeline.js'
import { GatewayError } from '../errors.js'
import { mayReset, mayStop, senderActor, sourceOf, usernameOf, type Actor } from '../auth/actor.js'
import { topicOf, type EmergencyStatePayload } from '../protocol/index.js'
import type { Logger } from '../log.js'
import type { EventMap } from '../events.js'
import type { CommandOutcome } from './commands.js'
import { inactiveRecord, type EmergencyLatch, type EmergencyRecord } from './emergency-latch.js'

const KEY = 'emergency'

/**
 * The emergency stop (SPEC §4). Trigger order: persist → broadcast stop + retained state → every relay channel off
 * → cancel macros → critical event. While active the latch makes relays and macros refuse. Reset is admin only.
 * The state survives a restart and is re-published at start. The roll-call records which boards acknowledged.
 *
 * MQTT requests are taken before the PUBACK (`beforeAck`, gateway/inbound.ts), not after delivery: the panel's
 * PUBACK then means "persisted", and the panel's raw message is dropped because the gateway broadcasts its own
 * canonical stop/reset to the devices.
 */
export class EmergencyService implements Service {
  readonly name = 'emergency'
  private readonly log: Logger
  private running = false
  private saving: Promise<void> = Promise.resolve()
  private dirty = false
  private rollCallQueued = false
  private readonly onOnline = ({ uuid }: EventMap['device.online'][0]): void => {
    if (this.running && this.latch.active) {
      void this.tellBoard(uuid).catch(err =>
        this.log.error({ err, deviceUuid: uuid }, 'emergency not told to a reconnected board')
      )
    }
  }

  constructor (
    private readonly ctx: Services,
    private readonly latch: EmergencyLatch
  ) {
    this.log = ctx.log.child({ module: 'emergency' })
  }

  get record (): EmergencyRecord {
    return this.latch.record
  }

  async start (): Promise<void> {
    const stored = await this.ctx.repos.systemStatus.get<EmergencyRecord>(KEY)
    if (stored !== undefined) this.latch.record = { ...inactiveRecord(), ...stored }
    if (this.latch.active) {
      this.log.warn({ reason: this.latch.record.reason, since: this.latch.record.since }, 'emergency stop still active')
    }
    this.ctx.bus.emit('emergency.changed', { active: this.latch.active })
    await this.publishState()
    this.running = true
    this.ctx.bus.on('device.online', this.onOnline)
  }

  async stop (): Promise<void> {
    this.running = false
    this.ctx.bus.off('device.online', this.onOnline)
    await this.saving
  }

  /**
   * The order, and what each step's durability is (SPEC §4, issue 5):
   * 1. the latch, in memory: from here on nothing turns on;
   * 2. `system_status.emergency`, written before anything goes out (`setEarly`: committed without waiting for
   *    the disk, so it survives a crash or restart of the gateway at once; the fsync follows with the command
   *    rows' commit, a few ms later, which also makes it power-safe). If another transaction holds the
   *    connection at that instant, the stop does not wait for it: the row is written as soon as the connection
   *    is free, after the fan-out. An engine without synchronous writes (PostgreSQL): awaited before the fan-out;
   * 3. one pass of in-memory publishes: the broadcast stop, every off-command, the retained state;
   * 4. then, off the critical path: the command rows in one transaction (its full commit also syncs the
   *    record's), the desired states, macros cancelled, the critical event.
   * The trigger resolves (the panel's PUBACK, the API's answer) only once all of it is durable.
   */
  async trigger (req: { reason?: string, actor: Actor }): Promise<EmergencyRecord> {
    const what = { action: 'emergency.stop', target: 'gateway', params: { reason: req.reason ?? null } }
    if (!mayStop(req.actor)) {
      const err = new GatewayError('GW_ERR_EMERGENCY_FORBIDDEN', 'not allowed to trigger the emergency stop')
      await this.ctx.journal.refused(req.actor, what, err)
      throw err
    }
    if (this.latch.active) {
      await this.ctx.journal.accepted(req.actor, { ...what, params: { ...what.params, already_active: true } })
      return this.latch.record
    }
    const record: EmergencyRecord = {
      active: true,
      reason: req.reason ?? 'emergency stop',
      source: sourceOf(req.actor),
      since: new Date(this.ctx.clock.now()).toISOString(),
      username: usernameOf(req.actor) ?? null,
      roll_call: {}
    }
    this.latch.record = record
    this.ctx.bus.emit('emergency.changed', { active: true })
    // The lockout already holds; the journal row is committed before the first off-command goes out.
    await this.ctx.journal.accepted(req.actor, what)
    const t0 = performance.now()
    const listed = this.ctx.relays.allChannels()
    const channels = listed instanceof Promise ? await listed : listed
    for (const ch of channels) record.roll_call[ch.deviceUuid] = 'pending'
    const early = this.ctx.repos.systemStatus.setEarly(KEY, record, this.ctx.clock.now())
    if (early === 'not synchronous') await this.save()
    const persistedMs = performance.now() - t0
    const { reason, source, since } = record
    const broadcast = this.ctx.broker.publish(topicOf('emergencyStop'), { reason, source, since }, { qos: 1 })
    let publishedMs = 0
    const offs = this.ctx.relays.allOff(channels, 'emergency', {
      onPublished: () => {
        publishedMs = performance.now() - t0
      }
    })
    // After the off-commands: storing a retained message is a write to the broker's store.
    const published = Promise.all([broadcast, this.publishState()])
    const boards = await offs
    const offCommandsMs = performance.now() - t0
    for (const [uuid, sent] of boards) {
      void Promise.all(sent.map(s => s.outcome)).then(outcomes => this.answered(record, uuid, outcomes))
    }
    await this.ctx.macros.cancelAll('emergency stop')
    await published
    // The command rows' commit synced the WAL, the early write with it; without rows (or without the early write)
    // the record gets its own full commit.
    if (early !== 'written' || channels.length === 0) await this.save()
    await this.ctx.events.log({
      level: 'critical',
      type: 'emergency_stop',
      source: record.source ?? 'gateway',
      action: 'stop',
      username: record.username ?? undefined,
      payload: { reason: record.reason, boards: boards.size }
    })
    this.log.warn({ reason, source, boards: boards.size, persistedMs, publishedMs, offCommandsMs }, 'emergency stop')
    return record
  }

  async reset (req: { actor: Actor }): Promise<EmergencyRecord> {
    const what = { action: 'emergency.reset', target: 'gateway' }
    if (!mayReset(req.actor)) {
      const err = new GatewayError('GW_ERR_EMERGENCY_FORBIDDEN', 'only an admin may reset the emergency stop')
      await this.ctx.journal.refused(req.actor, what, err)
      throw err
    }
    await this.ctx.journal.accepted(req.actor, { ...what, params: { was_active: this.latch.active } })
    if (!this.latch.active) return this.latch.record
    const username = usernameOf(req.actor) ?? null
    const at = new Date(this.ctx.clock.now()).toISOString()
    this.latch.record = { ...this.latch.record, active: false, reset_by: username ?? sourceOf(req.actor), reset_at: at }
    this.ctx.bus.emit('emergency.changed', { active: false })
    await this.save()
    await Promise.all([
      this.ctx.broker.publish(topicOf('emergencyReset'), { reset_by: this.latch.record.reset_by, at }, { qos: 1 }),
      this.publishState()
    ])
    await this.ctx.events.log({
      level: 'info',
      type: 'emergency_reset',
      source: sourceOf(req.actor),
      action: 'reset',
      username: username ?? undefined,
      payload: { since: this.latch.record.since }
    })
    this.log.warn({ resetBy: this.latch.record.reset_by }, 'emergency reset')
    return this.latch.record
  }

  /**
   * A board that (re)connects while the emergency is latched, after a restart or a dropout, is told again: its
   * channels get fresh off-commands (an older open one is superseded, so nothing reaches it twice) and its roll-call
   * entry follows their answers. The retained `emergency/state` tells it too, on its subscription.
   */
  private async tellBoard (uuid: string): Promise<void> {
    const listed = this.ctx.relays.allChannels()
    const channels = (listed instanceof Promise ? await listed : listed).filter(ch => ch.deviceUuid === uuid)
    if (channels.length === 0) return
    const record = this.latch.record
    record.roll_call[uuid] = 'pending'
    const boards = await this.ctx.relays.allOff(channels, 'emergency')
    for (const [board, sent] of boards) {
      void Promise.all(sent.map(x => x.outcome)).then(outcomes => this.answered(record, board, outcomes))
    }
    await this.save()
    await this.ctx.events.log({
      level: 'warning',
      type: 'emergency_retold',
      source: 'gateway',
      action: 'stop',
      target: uuid,
      payload: { channels: channels.length, since: record.since }
    })
  }

  private answered (record: EmergencyRecord, uuid: string, outcomes: CommandOutcome[]): void {
    const notAcked = outcomes.find(o => o.status !== 'acked')
    record.roll_call[uuid] = notAcked === undefined ? 'acked' : notAcked.status
    if (!this.running || this.rollCallQueued) return
    // The answers of many boards arrive together: one write for all that came in this turn of the event loop.
    this.rollCallQueued = true
    setImmediate(() => {
      this.rollCallQueued = false
      void this.save()
    })
  }

  private async publishState (): Promise<void> {
    const { active, reason, source, since } = this.latch.record
    const state: EmergencyStatePayload = active
      ? { active, reason, source, since }
      : { active: false, reason: null, source: null, since: null }
    await this.ctx.broker.publish(topicOf('emergencyState'), state, { qos: 1, retain: true })
  }

  /** Writes the current record; writes requested while one runs are coalesced into one more. */
  private async save (): Promise<void> {
    if (this.dirty) return await this.saving
    this.dirty = true
    this.saving = this.saving.then(async () => {
      this.dirty = false
      await this.ctx.repos.systemStatus.set(KEY, this.latch.record, this.ctx.clock.now())
    }).catch(err => this.log.error({ err }, 'emergency state not stored'))
    return await this.saving
  }

  /** The inbound step of `autocore/emergency/stop` and `.../reset` from a client (gateway/inbound.ts). */
  readonly beforeAck = (msg: InboundMessage<'emergencyStop' | 'emergencyReset'>):
  PublishVerdict | Promise<PublishVerdict> => {
    const { principal, packet, client } = msg
    const stop = msg.family === 'emergencyStop'
    if (!this.running || principal === undefined) return 'deliver'
    const clientId = client?.id ?? principal.clientId
    const actor: Actor = senderActor(principal, client)
    if (stop ? !mayStop(actor) : !mayReset(actor)) {
      const what = stop ? 'trigger' : 'reset'
      const err = new GatewayError('GW_ERR_EMERGENCY_FORBIDDEN', `not allowed to ${what} the emergency stop`)
      const action = stop
        ? { action: 'emergency.stop', target: 'gateway', params: { reason: reasonOf(packet.payload) ?? null } }
        : { action: 'emergency.reset', target: 'gateway' }
      void this.ctx.journal.refused(actor, action, err)
      return { deny: err.message }
    }
    const done = stop ? this.trigger({ reason: reasonOf(packet.payload), actor }) : this.reset({ actor })
    return done.then(() => ({ drop: 'emergency request handled by the gateway' }), (err: Error) => {
      this.log.error({ err, clientId }, 'emergency request failed')
      return { drop: 'emergency request failed' }
    })
  }
}

function reasonOf (payload: Buffer | string): string | undefined {
  try {
    const body = JSON.parse(payload.toString()) as { reason?: unknown }
    return typeof body.reason === 'string' && body.reason !== '' ? body.reason.slice(0, 200) : undefined
  } catch {
    return undefined
  }
}

import type { Client, Subscription } from 'aedes'
import { covers, topicOf } from '../protocol/index.js'
import type { Logger } from '../log.js'
import { isFinal, RELAY_COMMAND, type FinalStatus, type Tracked } from './command-types.js'
import type { CommandWrites } from './command-writes.js'
import type { Services } from './index.js'

export interface DeliveryDeps {
  ctx: Pick<Services, 'clock' | 'config' | 'broker' | 'hooks'>
  log: Logger
  writes: CommandWrites
  /** The command service's open commands, by command id. */
  open: Map<string, Tracked>
  finish: (t: Tracked, status: FinalStatus, message?: string) => void
  /** A warning event about the command (timeout, expiry). */
  event: (t: Tracked, type: string, payload: Record<string, unknown>) => Promise<void>
}

/**
 * Getting commands to their devices: published QoS 1 while the device is online, re-sent after
 * `commands.ackTimeoutMs` up to `commands.maxAttempts`, held while it is offline and expired at `expiresAt`.
 */
export class CommandDelivery {
  /** Devices online now (device.online until device.offline). */
  readonly online = new Set<string>()

  constructor (private readonly deps: DeliveryDeps) {}

  /**
   * Publishes the command if its device is online; otherwise it stays pending until device.online, and expires
   * at `expiresAt` if still pending then (the expiry timer is armed the first time a command waits: a command
   * whose device is online, the emergency fan-out's 200, needs none).
   */
  attempt (t: Tracked): Promise<void> | undefined {
    if (!this.online.has(t.uuid)) {
      if (t.row.status !== 'pending') this.deps.writes.persist(t, { status: 'pending' })
      t.row.status = 'pending'
      if (t.expiryTimer === undefined) this.armExpiry(t)
      return undefined
    }
    t.row.attempts++
    t.row.status = 'sent'
    t.row.sentAt = this.deps.ctx.clock.now()
    const { commandId, command, payload } = t.row
    const [topic, body] = command === RELAY_COMMAND
      ? [topicOf('relayCommand', { uuid: t.uuid }), { command_id: commandId, ...payload }]
      : [topicOf('deviceCommand', { uuid: t.uuid }), { command_id: commandId, command, params: payload }]
    const published = this.deps.ctx.broker.publish(topic, body, { qos: 1 })
      .catch(err => this.deps.log.error({ err, commandId }, 'command publish failed'))
    this.deps.writes.persist(t, { status: 'sent', attempts: t.row.attempts, sentAt: t.row.sentAt })
    t.ackTimer?.cancel()
    t.ackTimer = this.deps.ctx.clock.setTimeout(() => this.ackTimedOut(t), this.deps.ctx.config.commands.ackTimeoutMs)
    return published
  }

  private ackTimedOut (t: Tracked): void {
    if (isFinal(t.row.status)) return
    if (t.row.attempts >= this.deps.ctx.config.commands.maxAttempts) {
      this.deps.finish(t, 'timeout', `no response after ${t.row.attempts} attempts`)
      void this.deps.event(t, 'command_timeout', { attempts: t.row.attempts })
      return
    }
    void this.attempt(t)
  }

  armExpiry (t: Tracked): void {
    const expiresAt = t.row.expiresAt ?? Number.POSITIVE_INFINITY
    t.expiryTimer?.cancel()
    t.expiryTimer = this.deps.ctx.clock.setTimeout(() => {
      if (t.row.status !== 'pending') return
      this.deps.finish(t, 'expired', 'device offline past the time to live')
      void this.deps.event(t, 'command_expired', {})
    }, Math.max(0, expiresAt - this.deps.ctx.clock.now()))
  }

  deviceOnline (uuid: string): void {
    this.online.add(uuid)
    const now = this.deps.ctx.clock.now()
    for (const t of this.deps.open.values()) {
      if (t.uuid !== uuid || t.row.status !== 'pending') continue
      const expired = t.row.expiresAt !== null && t.row.expiresAt <= now
      if (expired) this.deps.finish(t, 'expired', 'device offline past the time to live')
      else void this.attempt(t)
    }
  }

  /**
   * A device subscribed to its command topic: what was sent on its device.online went out before the subscription
   * existed and, on a clean session, reached no one ([MQTT-3.3.5-1] delivers only to matching subscriptions). It is
   * sent again at once with the same command id (boards never carry out one id twice) instead of after ackTimeoutMs.
   */
  subscribed (subs: Subscription[], client: Client): void {
    const p = this.deps.ctx.hooks.principalOf(client)
    if (p?.kind !== 'device' || !this.online.has(p.uuid)) return
    const uuid = p.uuid
    const mine = [topicOf('relayCommand', { uuid }), topicOf('deviceCommand', { uuid })]
    if (!subs.some(s => mine.some(topic => covers(s.topic, topic)))) return
    for (const t of this.deps.open.values()) {
      if (t.uuid === uuid && t.row.status === 'sent') void this.attempt(t)
    }
  }
}

import type { Timer } from '../clock.js'
import type { Logger } from '../log.js'
import type { ChannelRow, RelaysRepository } from '../persistence/repositories/relays.js'
import type { SentCommand } from './commands.js'
import type { Services } from './index.js'

interface Hold { clientId?: string, timer: Timer }

export interface RelayTimerDeps {
  ctx: Pick<Services, 'clock' | 'config' | 'events'>
  repo: RelaysRepository
  log: Logger
  /** The gateway's own 'off' for a channel (a hold or max_on_ms that ran out, a holder that went away). */
  turnOff: (ch: ChannelRow) => Promise<unknown>
}

/**
 * The relay service's timers, all on the injected clock: momentary holds (released after their duration or when
 * the holding client disconnects), max_on_ms auto-offs, and the desired-vs-current check after an acknowledgement.
 */
export class RelayTimers {
  private readonly holds = new Map<number, Hold>()
  private readonly maxOn = new Map<number, Timer>()
  private readonly checks = new Set<Timer>()
  private stopped = false

  constructor (private readonly deps: RelayTimerDeps) {}

  /** Holds the channel for `holdMs` (replacing a hold it had), then `release()`; `clientId`'s disconnect too. */
  hold (ch: ChannelRow, clientId: string | undefined, holdMs: number, release: () => void): void {
    this.holds.get(ch.id)?.timer.cancel()
    this.holds.set(ch.id, { clientId, timer: this.deps.ctx.clock.setTimeout(release, holdMs) })
  }

  hasMaxOn (id: number): boolean {
    return this.maxOn.has(id)
  }

  armMaxOn (ch: ChannelRow): void {
    this.maxOn.get(ch.id)?.cancel()
    this.maxOn.set(ch.id, this.deps.ctx.clock.setTimeout(() => {
      this.maxOn.delete(ch.id)
      void this.autoOff(ch)
    }, ch.maxOnMs ?? 0))
  }

  private async autoOff (ch: ChannelRow): Promise<void> {
    try {
      await this.deps.turnOff(ch)
      await this.deps.ctx.events.log({
        level: 'warning',
        type: 'relay_max_on',
        source: 'gateway',
        action: 'off',
        target: `${ch.deviceUuid}/${ch.channelNumber}`,
        payload: { max_on_ms: ch.maxOnMs }
      })
    } catch (err) {
      this.deps.log.error({ err, deviceUuid: ch.deviceUuid, channel: ch.channelNumber }, 'max-on auto-off failed')
    }
  }

  /** Desired vs current: once the command is acknowledged, the board has one more timeout to report the state. */
  checkAfter (ch: ChannelRow, sent: SentCommand, desired: boolean): void {
    void sent.outcome.then(o => {
      // An acknowledgement can arrive while the gateway stops: no check is armed after stop() (the database closes).
      if (o.status !== 'acked' || this.stopped) return
      const timer = this.deps.ctx.clock.setTimeout(() => {
        this.checks.delete(timer)
        this.compare(ch.id, desired)
          .catch(err => this.deps.log.error({ err, relayId: ch.id }, 'relay state check failed'))
      }, this.deps.ctx.config.commands.ackTimeoutMs)
      this.checks.add(timer)
    })
  }

  private async compare (id: number, desired: boolean): Promise<void> {
    const now = await this.deps.repo.byId(id)
    if (now === undefined || now.desiredState !== desired || now.currentState === desired) return
    await this.deps.ctx.events.log({
      level: 'warning',
      type: 'relay_state_mismatch',
      source: 'gateway',
      target: `${now.deviceUuid}/${now.channelNumber}`,
      payload: { desired, current: now.currentState }
    })
  }

  /** The holds of a client that disconnected end now. */
  releaseHoldsOf (clientId: string): void {
    for (const [id, hold] of this.holds) {
      if (hold.clientId !== clientId) continue
      hold.timer.cancel()
      this.holds.delete(id)
      void this.deps.repo.byId(id).then(ch => {
        if (ch !== undefined) return this.deps.turnOff(ch)
      }).catch(err => this.deps.log.error({ err, clientId }, 'hold release failed'))
    }
  }

  /** The channel's hold and max-on timers (it is being turned off). */
  clearChannel (id: number): void {
    this.holds.get(id)?.timer.cancel()
    this.holds.delete(id)
    this.maxOn.get(id)?.cancel()
    this.maxOn.delete(id)
  }

  /** Every hold and max-on timer (the emergency stop). */
  cancelAll (): void {
    for (const id of [...this.holds.keys(), ...this.maxOn.keys()]) this.clearChannel(id)
  }

  stop (): void {
    this.stopped = true
    this.cancelAll()
    for (const t of this.checks) t.cancel()
    this.checks.clear()
  }
}

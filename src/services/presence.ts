import type { Client, PingreqPacket } from 'aedes'
import { remoteAddressOf } from '../broker/hooks.js'
import type { Step } from '../broker/pipeline.js'
import type { Timer } from '../clock.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { EventMap } from '../events.js'
import { familyTopic, type DeviceStatusPayload } from '../protocol/index.js'
import type { Logger } from '../log.js'
import type { Principal } from '../auth/principal.js'

interface Entry {
  online: boolean
  lastSeen: number
  flushedSeen: number
  /** The connection currently speaking for this device (a takeover replaces it). */
  client?: Client
}

type OfflineReason = EventMap['device.offline'][0]['reason']

/**
 * Who is online (SPEC §4), from our own registry rather than aedes.connectedClients: a device is online from
 * its authenticated CONNECT (or announce/status/any message) until its Last Will, a clean DISCONNECT, or no
 * message or ping for devices.offlineAfterS. Each transition updates `devices`, is an event
 * (device_connected / device_offline) and leaves the retained `.../status` telling the truth.
 *
 * After a start every device is offline until it connects (issue 14): devices stored as online are marked offline
 * (reason 'restart', an event, the retained status) before the MQTT listener opens, so the first connection of each
 * is a `device.online` that every service with its own view of presence (commands, metrics, emergency) rebuilds
 * from. The listener opens only once every service has started (app.ts), so none of them misses that event.
 */
export class PresenceService implements Service {
  readonly name = 'presence'
  private readonly entries = new Map<string, Entry>()
  private readonly queues = new Map<string, Promise<void>>()
  private readonly log: Logger
  private timer?: Timer
  private running = false

  constructor (private readonly ctx: Services) {
    this.log = ctx.log.child({ module: 'presence' })
  }

  private get timeoutMs (): number { return this.ctx.config.devices.offlineAfterS * 1000 }

  /** Is the device online now (for tests and the API)? */
  isOnline (uuid: string): boolean {
    return this.entries.get(uuid)?.online === true
  }

  async start (): Promise<void> {
    for (const d of await this.ctx.repos.devices.listByStatus('online')) {
      // Its last_seen stays what it was before the restart.
      const seen = d.lastSeen ?? this.ctx.clock.now()
      this.entries.set(d.uuid, { online: true, lastSeen: seen, flushedSeen: seen })
      this.markOffline(d.uuid, 'restart', true)
    }
    const aedes = this.ctx.broker.aedes
    aedes.on('clientReady', this.onReady)
    aedes.on('clientDisconnect', this.onGone)
    aedes.on('ping', this.onPing)
    this.ctx.bus.on('device.status_reported', this.onStatus)
    this.timer = this.ctx.clock.setInterval(() => this.sweep(), Math.max(1000, Math.floor(this.timeoutMs / 3)))
    this.running = true
  }

  async stop (): Promise<void> {
    this.running = false
    const aedes = this.ctx.broker.aedes
    aedes.off('clientReady', this.onReady)
    aedes.off('clientDisconnect', this.onGone)
    aedes.off('ping', this.onPing)
    this.ctx.bus.off('device.status_reported', this.onStatus)
    this.timer?.cancel()
    this.flushLastSeen()
    await Promise.all(this.queues.values())
  }

  private device (p: Principal | undefined): string | undefined {
    return p?.kind === 'device' && p.pending === undefined ? p.uuid : undefined
  }

  private entry (uuid: string): Entry {
    let e = this.entries.get(uuid)
    if (e === undefined) {
      e = { online: false, lastSeen: this.ctx.clock.now(), flushedSeen: 0 }
      this.entries.set(uuid, e)
    }
    return e
  }

  private readonly onReady = (client: Client): void => {
    const uuid = this.device(this.ctx.hooks.principalOf(client))
    if (uuid === undefined) return
    const e = this.entry(uuid)
    e.client = client
    e.lastSeen = this.ctx.clock.now()
    const ip = remoteAddressOf(client)?.replace(/^::ffff:/, '')
    if (!e.online) this.markOnline(uuid, 'connect', ip)
    else {
      this.persist(uuid, async () => {
        await this.ctx.repos.devices.update(uuid, { ipAddress: ip ?? null }, this.ctx.clock.now())
      })
    }
  }

  private readonly onGone = (client: Client): void => {
    const uuid = this.device(this.ctx.hooks.principalOf(client))
    if (uuid === undefined) return
    const e = this.entries.get(uuid)
    if (e === undefined || e.client !== client) return // an older connection replaced by a takeover
    e.client = undefined
    // Aedes marks a client that sent DISCONNECT (its will is then discarded, [MQTT-3.14.4-3]).
    const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true
    if (clean && e.online) this.markOffline(uuid, 'disconnect', true)
  }

  private readonly onPing = (_packet: PingreqPacket, client: Client): void => {
    this.touch(this.device(this.ctx.hooks.principalOf(client)))
  }

  /** The inbound step for every client publish (gateway/inbound.ts): a message from a device shows it is alive. */
  readonly touchStep: Step = ({ principal }) => {
    if (this.running) this.touch(this.device(principal))
    return 'deliver'
  }

  private touch (uuid: string | undefined): void {
    if (uuid === undefined) return
    const e = this.entries.get(uuid)
    if (e === undefined) return
    e.lastSeen = this.ctx.clock.now()
    if (!e.online && e.client !== undefined && !e.client.closed) this.markOnline(uuid, 'message')
  }

  private readonly onStatus = (s: EventMap['device.status_reported'][0]): void => {
    const e = this.entry(s.uuid)
    const live = e.client !== undefined && !e.client.closed
    if (s.status === 'online') {
      e.lastSeen = this.ctx.clock.now()
      if (!e.online) this.markOnline(s.uuid, 'status')
      return
    }
    if (live) {
      // The will of a connection replaced by a takeover, while the new one is up: the status must say online.
      this.persist(s.uuid, () => this.publishStatus(s.uuid, 'online'))
      return
    }
    if (e.online) this.markOffline(s.uuid, 'will', !s.retain)
  }

  private sweep (): void {
    const now = this.ctx.clock.now()
    for (const [uuid, e] of this.entries) {
      if (e.online && now - e.lastSeen > this.timeoutMs) this.markOffline(uuid, 'timeout', true)
    }
    this.flushLastSeen()
  }

  private flushLastSeen (): void {
    for (const [uuid, e] of this.entries) {
      if (!e.online || e.lastSeen <= e.flushedSeen) continue
      const seen = e.lastSeen
      e.flushedSeen = seen
      this.persist(uuid, async () => {
        await this.ctx.repos.devices.update(uuid, { lastSeen: seen }, this.ctx.clock.now())
      })
    }
  }

  private markOnline (uuid: string, via: 'connect' | 'message' | 'status', ip?: string): void {
    const e = this.entry(uuid)
    e.online = true
    const seen = e.lastSeen
    e.flushedSeen = seen
    this.ctx.bus.emit('device.online', { uuid, ipAddress: ip })
    this.persist(uuid, async () => {
      const known = await this.ctx.repos.devices.update(
        uuid,
        { status: 'online', lastSeen: seen, ...(ip === undefined ? {} : { ipAddress: ip }) },
        this.ctx.clock.now()
      )
      if (!known) return
      await this.ctx.events.log({
        level: 'info',
        type: 'device_connected',
        source: 'presence',
        target: uuid,
        payload: { via, ip }
      })
      await this.publishStatus(uuid, 'online')
    })
  }

  private markOffline (uuid: string, reason: OfflineReason, publish: boolean): void {
    const e = this.entry(uuid)
    e.online = false
    const seen = e.lastSeen
    this.ctx.bus.emit('device.offline', { uuid, reason })
    this.persist(uuid, async () => {
      const known = await this.ctx.repos.devices.update(
        uuid,
        { status: 'offline', lastSeen: seen },
        this.ctx.clock.now()
      )
      if (!known) return
      await this.ctx.events.log({
        level: reason === 'timeout' ? 'warning' : 'info',
        type: 'device_offline',
        source: 'presence',
        target: uuid,
        payload: { reason }
      })
      if (publish) await this.publishStatus(uuid, 'offline')
    })
  }

  private async publishStatus (uuid: string, status: DeviceStatusPayload['status']): Promise<void> {
    const body: DeviceStatusPayload = { status }
    await this.ctx.broker.publish(familyTopic('deviceStatus', { uuid }), body, { qos: 1, retain: true })
  }

  /** Side effects of one device run in order; a failure is logged and does not stop the next. */
  private persist (uuid: string, work: () => Promise<void>): void {
    const prev = this.queues.get(uuid) ?? Promise.resolve()
    const next = prev.then(work).catch(err => this.log.error({ err, uuid }, 'presence update failed'))
    this.queues.set(uuid, next)
    void next.then(() => { if (this.queues.get(uuid) === next) this.queues.delete(uuid) })
  }
}

import mqtt, { type MqttClient } from 'mqtt'
import { topicOf, familyTopic, parseTopic } from '../protocol/index.js'
import { ingest } from './ingest.js'
import type { Session } from './model.js'
import type { Store } from './store.js'
import { applyTheme, themeVars } from './theme.js'

/** What the panel reads (SPEC §3): every filter is one a user of any role may subscribe to (src/auth/acl.ts). */
export const SUBSCRIPTIONS = [
  familyTopic('deviceStatus'),
  familyTopic('deviceAnnounce'),
  familyTopic('deviceTelemetry'),
  familyTopic('telemetryData'),
  familyTopic('relayState'),
  'autocore/config/#',
  'autocore/emergency/#',
  'autocore/events/#'
]

const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 30_000

/** Reconnect delay after `attempt` failures in a row: doubling from 1 s up to 30 s, with ±20 % jitter. */
export function backoffMs (attempt: number, random = Math.random()): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1))
  return Math.round(base * (0.8 + 0.4 * random))
}

export interface LinkOptions {
  url: string
  session: Session
  store: Store
  /** CONNACK 4/5: the token expired or the user was disabled. */
  onRefused: (why: string) => void
}

/**
 * The panel's MQTT.js connection over WebSocket (username + JWT). MQTT.js's own reconnect uses a fixed period, so
 * it is off (reconnectPeriod 0) and this class reconnects with backoff, resubscribing each time: the retained
 * messages then tell the current truth again.
 */
export class MqttLink {
  private client: MqttClient | null = null
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private attempt = 0
  private closed = false
  private themeKeys: string[] = []

  constructor (private readonly opts: LinkOptions) {}

  private now (): number {
    return Date.now() + this.opts.session.skewMs
  }

  get online (): boolean {
    return this.client?.connected === true
  }

  start (): void {
    const { session, store } = this.opts
    const client = mqtt.connect(this.opts.url, {
      username: session.username,
      password: session.token,
      clientId: `panel-${session.username}-${Math.random().toString(16).slice(2, 10)}`,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0,
      queueQoSZero: false
    })
    this.client = client
    store.update(s => ({
      link: { ...s.link, status: this.attempt === 0 ? 'connecting' : 'reconnecting', retryAt: null }
    }))
    client.on('connect', () => {
      this.attempt = 0
      store.update(() => ({ link: { status: 'online', attempt: 0, retryAt: null, error: null } }))
      client.subscribe(SUBSCRIPTIONS, { qos: 1 }, () => {})
    })
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload.toString(), packet.retain))
    client.on('error', err => {
      const code = (err as { code?: number }).code
      store.update(s => ({ link: { ...s.link, error: err.message } }))
      if (code === 4 || code === 5) {
        this.stop()
        this.opts.onRefused(
          code === 4
            ? 'Your session has expired. Please log in again.'
            : 'The gateway refused this user. Please log in again.'
        )
      }
    })
    client.on('close', () => this.scheduleRetry())
  }

  private scheduleRetry (): void {
    if (this.closed || this.retryTimer !== null) return
    this.attempt++
    const delay = backoffMs(this.attempt)
    this.opts.store.update(s => ({
      link: { ...s.link, status: 'reconnecting', attempt: this.attempt, retryAt: Date.now() + delay }
    }))
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (this.closed) return
      this.opts.store.update(s => ({ link: { ...s.link, retryAt: null } }))
      this.client?.reconnect()
    }, delay)
  }

  /** Reconnect now (the "retry" button), without waiting for the backoff. */
  retryNow (): void {
    if (this.retryTimer === null || this.closed) return
    clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.client?.reconnect()
  }

  private onMessage (topic: string, payload: string, retained: boolean): void {
    if (parseTopic(topic)?.family === 'configTheme') {
      let theme: unknown = null
      try { theme = payload === '' ? null : JSON.parse(payload) } catch { theme = null }
      this.themeKeys = applyTheme(document.documentElement, themeVars(theme), this.themeKeys)
      return
    }
    const now = this.now()
    this.opts.store.update(s => ingest(s, topic, payload, retained, now))
  }

  private async publish (topic: string, body: Record<string, unknown>): Promise<void> {
    const client = this.client
    if (client === null || !client.connected) throw new Error('not connected to the gateway')
    await client.publishAsync(topic, JSON.stringify(body), { qos: 1 })
  }

  relaySet = async (
    uuid: string,
    body: { channel: number, action: 'on' | 'off' | 'toggle' | 'pulse', duration_ms?: number }
  ): Promise<void> => await this.publish(familyTopic('relaySet', { uuid }), body)

  runMacro = async (id: number): Promise<void> => await this.publish(familyTopic('macroRun', { id: String(id) }), {})
  emergencyStop = async (reason: string): Promise<void> => await this.publish(topicOf('emergencyStop'), { reason })
  emergencyReset = async (): Promise<void> => await this.publish(topicOf('emergencyReset'), {})

  /** Ends the connection at once (logout, page closing): the gateway then releases this panel's holds. */
  stop (): void {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.client?.end(true)
    this.opts.store.update(s => ({ link: { ...s.link, status: 'offline', retryAt: null } }))
  }
}

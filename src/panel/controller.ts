import { Api, login } from './api.js'
import { toast } from './ingest.js'
import { MqttLink } from './link.js'
import { loadAll, loadTelemetry, why } from './loading.js'
import {
  channelKey, initialState, type Level, type MacroItem, type PanelState, type RelayItem, type Session, type ViewId,
  VIEWS
} from './model.js'
import { loadSession, saveSession, sessionFrom } from './session.js'
import { Store } from './store.js'

/** A momentary hold is asked for this long and renewed while the finger stays down: a frozen page lets go by itself. */
export const HOLD_MS = 6000
const HOLD_RENEW_MS = 4000
/** A request not confirmed by its board within this time is shown as unconfirmed. */
export const CONFIRM_MS = 8000

export interface PanelEnv { storage: Storage, wsUrl: string, location: Location }

const viewOf = (hash: string): ViewId => VIEWS.find(v => `#/${v.id}` === hash)?.id ?? 'devices'

/**
 * The panel's one controller: the session, the REST client, the MQTT link and every user action. Views read the
 * store and call these methods; nothing else talks to the gateway.
 */
export class Panel {
  readonly store: Store
  private api: Api | null = null
  private link: MqttLink | null = null
  private readonly holds = new Map<string, ReturnType<typeof setInterval>>()
  private timers: Array<ReturnType<typeof setTimeout>> = []

  constructor (private readonly env: PanelEnv) {
    this.store = new Store(initialState(loadSession(env.storage, Date.now()), viewOf(env.location.hash), Date.now()))
  }

  get state (): PanelState {
    return this.store.state
  }

  boot (): void {
    const s = this.state.session
    if (s !== null) this.start(s)
  }

  async login (username: string, password: string): Promise<void> {
    const { answer, serverDate } = await login(username, password)
    const session = sessionFrom(answer, serverDate, Date.now())
    saveSession(this.env.storage, session)
    this.store.update(() => ({ ...initialState(session, this.state.view, Date.now()) }))
    this.start(session)
  }

  logout (notice: string | null = null): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers = []
    this.releaseAllHolds()
    this.link?.stop()
    this.link = null
    this.api = null
    saveSession(this.env.storage, null)
    this.store.update(s => ({ ...initialState(null, s.view, Date.now()), notice }))
  }

  private start (session: Session): void {
    this.api = new Api(session.token, () => this.logout('Your session has expired. Please log in again.'))
    this.link = new MqttLink({ url: this.env.wsUrl, session, store: this.store, onRefused: why => this.logout(why) })
    this.link.start()
    const untilExpiry = Math.max(0, session.expiresAtLocal - Date.now())
    this.timers.push(
      setTimeout(
        () => this.logout('Your session has expired. Please log in again.'),
        Math.min(untilExpiry, 2 ** 31 - 1)
      )
    )
    const tick = (): void => {
      this.store.update(() => ({ now: Date.now() + session.skewMs }))
      this.timers.push(setTimeout(tick, 1000))
    }
    tick()
    void this.loadAll()
  }

  /** The gateway's time now. */
  now (): number {
    return Date.now() + (this.state.session?.skewMs ?? 0)
  }

  private async loadAll (): Promise<void> {
    if (this.api !== null) await loadAll(this.api, this.store)
  }

  setView (view: ViewId): void {
    if (this.env.location.hash !== `#/${view}`) this.env.location.hash = `#/${view}`
    this.store.update(() => ({ view }))
  }

  onHashChange (): void {
    this.store.update(() => ({ view: viewOf(this.env.location.hash) }))
  }

  selectTelemetry (uuid: string): void {
    this.store.update(() => ({ telemetryDevice: uuid }))
  }

  /** The latest value of every key of a device, and the last hour of each numeric key (1-minute buckets). */
  async loadTelemetry (uuid: string): Promise<void> {
    this.store.update(() => ({ telemetryDevice: uuid }))
    if (this.api !== null) await loadTelemetry(this.api, this.store, uuid, this.now())
  }

  private pend (ch: RelayItem, want: boolean | 'pulse'): void {
    const key = channelKey(ch.deviceUuid, ch.channelNumber)
    this.store.update(s => ({ pending: { ...s.pending, [key]: { want, since: this.now(), error: null } } }))
  }

  private fail (ch: RelayItem, err: unknown): void {
    const key = channelKey(ch.deviceUuid, ch.channelNumber)
    this.store.update(s => ({
      pending: { ...s.pending, [key]: { ...(s.pending[key] ?? { want: false, since: this.now() }), error: why(err) } }
    }))
  }

  /** Toggle and pulse channels: one request; the control shows the result only when the board reports it. */
  async relay (ch: RelayItem, action: 'on' | 'off' | 'pulse'): Promise<void> {
    this.pend(ch, action === 'pulse' ? 'pulse' : action === 'on')
    try {
      await this.requireLink().relaySet(ch.deviceUuid, { channel: ch.channelNumber, action })
    } catch (err) {
      this.fail(ch, err)
    }
  }

  /** A mutex group as one selector: `target` on (the gateway turns the others off first), or every channel off. */
  async select (group: RelayItem[], target: RelayItem | null): Promise<void> {
    if (target !== null) return await this.relay(target, 'on')
    const states = this.state.relayStates
    const on = group.filter(ch => states[ch.deviceUuid]?.[String(ch.channelNumber)] !== false)
    await Promise.all((on.length > 0 ? on : group).map(ch => this.relay(ch, 'off')))
  }

  /**
   * Momentary: on while pressed (renewed), off at release; closing the page drops the socket and the gateway lets go.
   */
  holdStart (ch: RelayItem): void {
    const key = channelKey(ch.deviceUuid, ch.channelNumber)
    if (this.holds.has(key)) return
    const send = (): void => {
      this.link
        ?.relaySet(ch.deviceUuid, { channel: ch.channelNumber, action: 'on', duration_ms: HOLD_MS })
        .catch(err => this.fail(ch, err))
    }
    this.pend(ch, true)
    if (this.link?.online !== true) return this.fail(ch, new Error('not connected to the gateway'))
    send()
    this.holds.set(key, setInterval(send, HOLD_RENEW_MS))
  }

  holdEnd (ch: RelayItem): void {
    const key = channelKey(ch.deviceUuid, ch.channelNumber)
    const timer = this.holds.get(key)
    if (timer === undefined) return
    clearInterval(timer)
    this.holds.delete(key)
    void this.relay(ch, 'off')
  }

  releaseAllHolds (): void {
    for (const [key, timer] of this.holds) {
      clearInterval(timer)
      const ch = this.state.relays.find(r => channelKey(r.deviceUuid, r.channelNumber) === key)
      if (ch !== undefined) void this.relay(ch, 'off')
    }
    this.holds.clear()
  }

  async runMacro (m: MacroItem): Promise<void> {
    this.store.update(s => ({
      macroRuns: {
        ...s.macroRuns,
        [m.id]: { runId: null, status: 'requested', step: 0, steps: m.actions.length, message: null }
      }
    }))
    try {
      if (this.link?.online === true) await this.link.runMacro(m.id)
      else await this.requireApi().executeMacro(m.id)
    } catch (err) {
      this.store.update(s => ({
        macroRuns: { ...s.macroRuns, [m.id]: { ...s.macroRuns[m.id], status: 'failed', message: why(err) } }
      }))
    }
  }

  async cancelMacro (m: MacroItem): Promise<void> {
    try {
      await this.requireApi().cancelMacro(m.id)
    } catch (err) {
      this.store.update(s => toast(s, `Cancel ${m.name}: ${why(err)}`, 'error'))
    }
  }

  /** Over MQTT; when the link is down, over HTTP (the same service), so a stop is never lost to a reconnect. */
  async emergencyStop (): Promise<void> {
    const reason = 'emergency button on the panel'
    try {
      if (this.link?.online === true) await this.link.emergencyStop(reason)
      else await this.requireApi().emergencyStop(reason)
    } catch (err) {
      this.store.update(s => toast(s, `Emergency stop NOT sent: ${why(err)}`, 'critical'))
    }
  }

  async emergencyReset (): Promise<void> {
    try {
      await this.requireLink().emergencyReset()
    } catch (err) {
      this.store.update(s => toast(s, `Reset not sent: ${why(err)}`, 'error'))
    }
  }

  toggleLevel (level: Level): void {
    this.store.update(s => ({
      eventLevels: s.eventLevels.includes(level) ? s.eventLevels.filter(l => l !== level) : [...s.eventLevels, level]
    }))
  }

  dismissToast (id: number): void {
    this.store.update(s => ({ toasts: s.toasts.filter(t => t.id !== id) }))
  }

  retryNow (): void {
    this.link?.retryNow()
  }

  /** The page is going away: end the socket now (the gateway releases this panel's holds when it closes). */
  pageHide (): void {
    this.link?.stop()
  }

  private requireLink (): MqttLink {
    if (this.link === null || !this.link.online) throw new Error('not connected to the gateway')
    return this.link
  }

  /** The REST client for the admin views (null when logged out). */
  get rest (): Api | null {
    return this.api
  }

  private requireApi (): Api {
    if (this.api === null) throw new Error('not logged in')
    return this.api
  }
}

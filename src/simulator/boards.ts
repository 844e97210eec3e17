import type {
  BoardMode, Client, DeadmanContract, DeadmanState, ReceivedCommand, RelayBoardOptions
} from './board-types.js'

// Simulated ESP32 boards, speaking the topic contract (src/README.md) over a real MQTT client. One implementation
// for `autocore-gateway simulate` and for the test helpers (test/helpers/boards.ts): the tests use the relay board
// with `realistic: false` (it switches at once and lets the gateway do the timing), the simulator with
// `realistic: true` (it holds, pulses, interlocks and obeys an emergency stop as the firmware does).

/** How many command ids a board remembers (a firmware's ring of recent ids: the gateway re-sends only recent ones). */
const REMEMBERED_IDS = 1024
/**
 * How long a board that connects again waits for the retained emergency state, the sign its subscription is complete.
 */
const SUBSCRIBED_WITHIN_MS = 5000

/**
 * A relay board, the reference for firmware writers (src/README.md "Restarts and power cuts", "Gateway heartbeat"):
 * - it answers every command on its command topics with a response, applies relay actions to its channels and
 *   reports them (retained) on `autocore/relays/{uuid}/state`; `history` records, in order, every state change as
 *   the board saw it;
 * - a command id it has already carried out is answered again but never carried out twice (the gateway re-sends a
 *   command whose answer it did not get before a restart);
 * - on every reconnect it reports its channels (retained) so the gateway can reconcile them;
 * - with `deadman`, it reads the contract from the `deadman` of its retained device config, listens to the
 *   heartbeat topic named there, and when no heartbeat came for `misses × heartbeat_ms` it turns every channel in
 *   `fail_safe_off` off by itself. Once the gateway is back (the board has reconnected, or heartbeats come again)
 *   it reports the trip on `autocore/devices/{uuid}/error` as `{code: "deadman_tripped", message, channels,
 *   missed_ms, last_boot_id}`, with its channels on `autocore/relays/{uuid}/state`.
 */
export class SimRelayBoard {
  readonly commands: ReceivedCommand[] = []
  readonly state = new Map<number, boolean>()
  readonly history: Array<Record<number, boolean>> = []
  /** Command ids carried out (never carried out twice), oldest first. */
  readonly done = new Set<string>()
  readonly deadman: DeadmanState
  mode: BoardMode
  private readonly realistic: boolean
  private readonly mutexGroups: Record<number, string>
  private readonly timers = new Map<number, NodeJS.Timeout>()
  /** The refusal a remembered command id was answered with, to answer it the same way again. */
  private readonly refusals = new Map<string, string>()
  private watchdog?: NodeJS.Timeout
  private readonly onMessageBound = (topic: string, payload: Buffer, packet: { retain?: boolean }): void => {
    this.onMessage(topic, payload, packet.retain === true)
  }

  /**
   * Whether a live (retain 0) copy of the device config came since the last SUBSCRIBE. The broker streams a new
   * subscription's retained copy after its SUBACK, so a config the gateway publishes meanwhile can arrive first; a
   * retained copy after a live one is the older one [MQTT-3.3.1-8, MQTT-3.3.1-9] and is ignored.
   */
  private liveConfigSeen = false
  /** A client that reconnects by itself (mqtt.js `reconnectPeriod`): every CONNACK after the first is a reconnect. */
  private readonly onConnectBound = (): void => {
    void this.rejoined().catch(() => {})
  }

  constructor (
    readonly uuid: string,
    public client: Client,
    opts: RelayBoardOptions
  ) {
    this.mode = opts.mode ?? 'ok'
    this.realistic = opts.realistic ?? false
    this.mutexGroups = opts.mutexGroups ?? {}
    this.deadman = { enabled: opts.deadman === true, beats: 0, trips: [] }
    for (const c of opts.channels) this.state.set(c, false)
    this.attach(client)
  }

  async start (): Promise<void> {
    await this.subscribe()
    if (this.realistic) this.report()
    if (this.deadman.enabled && this.watchdog === undefined) {
      // The board's own watchdog: checked often within one heartbeat interval.
      this.watchdog = setInterval(() => { this.checkHeartbeat(Date.now()) }, 20)
      this.watchdog.unref()
    }
  }

  /**
   * Cancels the board's own timers (a hold or pulse in progress, the dead-man's watchdog); the state stays as it is.
   */
  stop (): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    clearInterval(this.watchdog)
    this.watchdog = undefined
  }

  /**
   * Goes on over a new connection (e.g. to a restarted gateway on a new port): the old one is ended, the board
   * subscribes, waits for the retained emergency state (its subscription is complete: a broker closed while it
   * still streams retained messages to a new subscription fails in its store), reports its channels and any
   * dead-man trip not yet reported.
   */
  async reconnect (client: Client): Promise<void> {
    this.client.removeListener('message', this.onMessageBound)
    this.client.removeListener('connect', this.onConnectBound)
    this.client.end(true)
    this.client = client
    this.attach(client)
    const subscribed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.removeListener('message', seen)
        reject(new Error(`${this.uuid}: no retained emergency state within ${SUBSCRIBED_WITHIN_MS}ms`))
      }, SUBSCRIBED_WITHIN_MS)
      const seen = (topic: string): void => {
        if (topic !== 'autocore/emergency/state') return
        clearTimeout(timer)
        client.removeListener('message', seen)
        resolve()
      }
      client.on('message', seen)
    })
    await this.subscribe()
    await subscribed
    await this.rejoined()
  }

  private attach (client: Client): void {
    client.on('message', this.onMessageBound)
    client.on('connect', this.onConnectBound)
  }

  private async subscribe (): Promise<void> {
    await this.client.subscribeAsync(
      [`autocore/relays/${this.uuid}/command`, `autocore/devices/${this.uuid}/command`, 'autocore/emergency/#'],
      { qos: 1 }
    )
    if (!this.deadman.enabled) return
    this.liveConfigSeen = false
    await this.client.subscribeAsync(`autocore/devices/${this.uuid}/config`, { qos: 1 })
    if (this.deadman.contract !== undefined) {
      await this.client.subscribeAsync(this.deadman.contract.heartbeat_topic, { qos: 0 })
    }
  }

  /** Back at the gateway: the channels (retained), then every dead-man trip not yet reported. */
  private async rejoined (): Promise<void> {
    await this.publishState()
    await this.reportTrips()
  }

  private checkHeartbeat (now: number): void {
    const dm = this.deadman
    const c = dm.contract
    if (c === undefined || dm.lastBeatAt === undefined) return
    const last = dm.trips[dm.trips.length - 1]
    if (last !== undefined && last.lastBeatAt === dm.lastBeatAt) return // tripped already since this heartbeat
    if (now - dm.lastBeatAt <= c.misses * c.heartbeat_ms) return
    const channels = c.fail_safe_off.filter(ch => this.state.get(ch) === true)
    for (const ch of channels) this.set(ch, false)
    if (channels.length > 0) this.history.push(Object.fromEntries(this.state))
    dm.trips.push({ at: now, lastBeatAt: dm.lastBeatAt, channels, reported: false })
  }

  private async reportTrips (): Promise<void> {
    const dm = this.deadman
    for (const trip of dm.trips) {
      if (trip.reported) continue
      trip.reported = true
      await this.client.publishAsync(
        `autocore/devices/${this.uuid}/error`,
        JSON.stringify({
          code: 'deadman_tripped',
          message: 'no gateway heartbeat: fail-safe channels turned off',
          channels: trip.channels,
          missed_ms: trip.at - trip.lastBeatAt,
          last_boot_id: dm.lastBootId
        }),
        { qos: 1 }
      )
    }
  }

  private onMessage (topic: string, payload: Buffer, retained: boolean): void {
    const dm = this.deadman
    if (dm.enabled && topic === `autocore/devices/${this.uuid}/config`) {
      if (retained && this.liveConfigSeen) return
      if (!retained) this.liveConfigSeen = true
      let contract: DeadmanContract | undefined
      try { contract = (JSON.parse(payload.toString()) as { deadman?: DeadmanContract }).deadman } catch { return }
      const fresh = dm.contract === undefined && contract !== undefined
      dm.contract = contract
      if (fresh && contract !== undefined) {
        void this.client.subscribeAsync(contract.heartbeat_topic, { qos: 0 }).catch(() => {})
      }
      return
    }
    if (dm.enabled && topic === dm.contract?.heartbeat_topic) {
      let beat: { boot_id?: string }
      try { beat = JSON.parse(payload.toString()) as { boot_id?: string } } catch { return }
      dm.beats++
      dm.lastBeatAt = Date.now()
      dm.lastBootId = beat.boot_id
      if (dm.trips.some(tr => !tr.reported)) {
        void this.reportTrips()
          .then(async () => {
            await this.publishState()
          })
          .catch(() => {})
      }
      return
    }
    if (this.realistic && topic === 'autocore/emergency/stop') {
      for (const ch of this.state.keys()) this.set(ch, false)
      this.report()
      return
    }
    if (!topic.endsWith('/command')) return
    let body: Record<string, any>
    try { body = JSON.parse(payload.toString()) as Record<string, any> } catch { return }
    this.commands.push({ topic, body })
    if (this.mode === 'silent') return
    const id = String(body.command_id)
    const again = this.done.has(id)
    let refused = this.refusals.get(id)
    if (!again) {
      this.remember(id)
      if (topic.startsWith('autocore/relays/') && (this.mode === 'ok' || this.mode === 'mute')) {
        refused = this.realistic ? this.applyTimed(body) : this.applyAtOnce(body)
        if (refused !== undefined) this.refusals.set(id, refused)
      }
    }
    if (this.mode === 'mute') return
    const error = this.mode === 'error' ? 'relay driver fault' : refused
    void this.client
      .publishAsync(
        `autocore/devices/${this.uuid}/response`,
        JSON.stringify({ command_id: body.command_id, status: error === undefined ? 'ok' : 'error', message: error }),
        { qos: 1 }
      )
      .catch(() => {})
  }

  private remember (id: string): void {
    this.done.add(id)
    if (this.done.size <= REMEMBERED_IDS) return
    const oldest = this.done.values().next().value as string
    this.done.delete(oldest)
    this.refusals.delete(oldest)
  }

  private applyAtOnce (body: Record<string, any>): undefined {
    const ch = Number(body.channel)
    const on = body.action === 'on' || (body.action === 'toggle' && this.state.get(ch) !== true)
    this.state.set(ch, body.action === 'pulse' ? false : on)
    this.report()
    return undefined
  }

  /** The firmware's way: returns why the command was refused, or undefined when applied. */
  private applyTimed (body: Record<string, any>): string | undefined {
    const ch = Number(body.channel)
    if (!this.state.has(ch)) return `no channel ${ch}`
    const on =
      body.action === 'on' || body.action === 'pulse' || (body.action === 'toggle' && this.state.get(ch) !== true)
    const group = this.mutexGroups[ch]
    if (on && group !== undefined) {
      const other = [...this.state].find(([c, s]) => c !== ch && s && this.mutexGroups[c] === group)
      if (other !== undefined) return `interlock: channel ${other[0]} of ${group} is on`
    }
    this.set(ch, on)
    const duration = Number(body.duration_ms)
    // A hold (on with duration_ms, renewed while held) and a pulse end by themselves.
    if (on && Number.isFinite(duration) && duration > 0) {
      this.timers.set(ch, setTimeout(() => { this.timers.delete(ch); this.set(ch, false); this.report() }, duration))
    }
    this.report()
    return undefined
  }

  private set (ch: number, on: boolean): void {
    clearTimeout(this.timers.get(ch))
    this.timers.delete(ch)
    this.state.set(ch, on)
  }

  /** A change: recorded in `history`, then reported. */
  private report (): void {
    this.history.push(Object.fromEntries(this.state))
    void this.publishState().catch(() => {})
  }

  private async publishState (): Promise<void> {
    await this.client.publishAsync(
      `autocore/relays/${this.uuid}/state`,
      JSON.stringify({ channels: Object.fromEntries(this.state) }),
      { qos: 1, retain: true }
    )
  }
}

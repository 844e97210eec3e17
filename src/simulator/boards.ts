import type mqtt from 'mqtt'

// Simulated ESP32 boards, speaking the topic contract (src/README.md) over a real MQTT client. One implementation
// for `autocore-gateway simulate` and for the test helpers (test/helpers/boards.ts): the tests use the relay board
// with `realistic: false` (it switches at once and lets the gateway do the timing), the simulator with
// `realistic: true` (it holds, pulses, interlocks and obeys an emergency stop as the firmware does).

export type Client = mqtt.MqttClient
export interface ReceivedCommand { topic: string, body: Record<string, any> }

/** How the board answers: 'ok', 'error' (a driver fault), 'silent' (no answer), 'ack-only' (ok, but never switches). */
export type BoardMode = 'ok' | 'error' | 'silent' | 'ack-only'

export interface RelayBoardOptions {
  channels: number[]
  mode?: BoardMode
  /**
   * true: the board times what it is told (a hold of duration_ms, a pulse on then off, a channel's max-on),
   * refuses to close a channel while another of its mutex group is on (an interlock of its own, behind the
   * gateway's) and opens every channel on `autocore/emergency/stop`. false: it applies each command at once
   * (a pulse leaves the channel off) and leaves all timing to the gateway.
   */
  realistic?: boolean
  /** Channel number → mutex group, for the board's own interlock (realistic only). */
  mutexGroups?: Record<number, string>
}

/**
 * A relay board: answers every command on its command topics with a response, applies relay actions to its
 * channels and reports them (retained) on `autocore/relays/{uuid}/state`. `history` records, in order, every state
 * change as the board saw it.
 */
export class SimRelayBoard {
  readonly commands: ReceivedCommand[] = []
  readonly state = new Map<number, boolean>()
  readonly history: Array<Record<number, boolean>> = []
  mode: BoardMode
  private readonly realistic: boolean
  private readonly mutexGroups: Record<number, string>
  private readonly timers = new Map<number, NodeJS.Timeout>()

  constructor (readonly uuid: string, readonly client: Client, opts: RelayBoardOptions) {
    this.mode = opts.mode ?? 'ok'
    this.realistic = opts.realistic ?? false
    this.mutexGroups = opts.mutexGroups ?? {}
    for (const c of opts.channels) this.state.set(c, false)
    client.on('message', (topic, payload) => { this.onMessage(topic, payload) })
  }

  async start (): Promise<void> {
    await this.client.subscribeAsync([`autocore/relays/${this.uuid}/command`, `autocore/devices/${this.uuid}/command`, 'autocore/emergency/#'], { qos: 1 })
    if (this.realistic) this.report()
  }

  /** Cancels the board's own timers (a hold or pulse in progress); the state stays as it is. */
  stop (): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  private onMessage (topic: string, payload: Buffer): void {
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
    let refused: string | undefined
    if (topic.startsWith('autocore/relays/') && this.mode === 'ok') {
      refused = this.realistic ? this.applyTimed(body) : this.applyAtOnce(body)
    }
    const error = this.mode === 'error' ? 'relay driver fault' : refused
    void this.client.publishAsync(`autocore/devices/${this.uuid}/response`,
      JSON.stringify({ command_id: body.command_id, status: error === undefined ? 'ok' : 'error', message: error }), { qos: 1 }).catch(() => {})
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
    const on = body.action === 'on' || body.action === 'pulse' || (body.action === 'toggle' && this.state.get(ch) !== true)
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

  private report (): void {
    this.history.push(Object.fromEntries(this.state))
    void this.client.publishAsync(`autocore/relays/${this.uuid}/state`, JSON.stringify({ channels: Object.fromEntries(this.state) }), { qos: 1, retain: true }).catch(() => {})
  }
}

/** The Last Will every simulated board sets, as the firmware does: offline, retained, when its socket dies. */
export const offlineWill = (uuid: string): { topic: string, payload: Buffer, qos: 1, retain: true } =>
  ({ topic: `autocore/devices/${uuid}/status`, payload: Buffer.from('{"status":"offline"}'), qos: 1, retain: true })

/** A board's announce and retained online status, as the firmware sends them after each CONNACK. */
export async function announce (client: Client, uuid: string, info: { type: string, name: string, capabilities?: string[], uptimeS: number }): Promise<void> {
  await client.publishAsync(`autocore/devices/${uuid}/announce`, JSON.stringify({ type: info.type, name: info.name, firmware: 'sim-1.0.0', capabilities: info.capabilities }), { qos: 1 })
  await client.publishAsync(`autocore/devices/${uuid}/status`, JSON.stringify({ status: 'online', uptime: Math.round(info.uptimeS), rssi: -58, free_heap: 182_000 }), { qos: 1, retain: true })
}

export interface Reading { value: number, unit: string }

/** One signal of a sensor board: its unit, its quantum, and its value at `t` seconds since the board started. */
export interface Signal { key: string, unit: string, step: number, at: (t: number, phase: number) => number }

const wave = (t: number, period: number, phase: number): number => Math.sin(2 * Math.PI * (t / period + phase))
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v))
/** The engine's speed over a slow drive cycle: idle, then cruising, then idle again (about 3 minutes). */
const rpm = (t: number, phase: number): number => 800 + 1400 * Math.max(0, wave(t, 180, phase)) ** 2 + 40 * wave(t, 23, phase)

/**
 * The engine bay of a vehicle on a slow drive cycle. Each signal is a smooth function of time (warm-up curves,
 * drive cycles, slow drains), quantized as the sensor's ADC or the ECU would report it: a chart of it looks like a
 * vehicle, not noise, and two runs with the same phase give the same readings.
 */
export const ENGINE_SIGNALS: Signal[] = [
  { key: 'rpm', unit: 'rpm', step: 10, at: rpm },
  { key: 'coolant_temp', unit: '°C', step: 0.5, at: (t, p) => 20 + 68 * (1 - Math.exp(-t / 240)) + 1.5 * wave(t, 97, p) * (1 - Math.exp(-t / 240)) },
  { key: 'oil_pressure', unit: 'bar', step: 0.1, at: (t, p) => 1.0 + rpm(t, p) / 1000 * 1.1 },
  { key: 'battery_voltage', unit: 'V', step: 0.05, at: (t, p) => rpm(t, p) > 600 ? 14.1 - 0.15 * wave(t, 300, p) : 12.6 },
  { key: 'fuel_level', unit: '%', step: 0.5, at: (t, p) => clamp(78 - 20 * p - t / 120, 5, 100) },
  { key: 'cabin_temp', unit: '°C', step: 0.1, at: (t, p) => 21 + 2 * wave(t, 600, p) }
]

/** A quantized reading: the nearest multiple of `step`, without binary-fraction tails (0.30000000000000004). */
export function quantize (value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1)
  return Number((Math.round(value / step) * step).toFixed(decimals))
}

export function sample (signals: Signal[], t: number, phase: number): Record<string, Reading> {
  return Object.fromEntries(signals.map(s => [s.key, { value: quantize(s.at(t, phase), s.step), unit: s.unit }]))
}

// The simulated boards' options and the shapes they report (boards.ts).
import type mqtt from 'mqtt'

export type Client = mqtt.MqttClient
export interface ReceivedCommand { topic: string, body: Record<string, any> }

/**
 * How the board answers: 'ok', 'error' (a driver fault), 'silent' (no answer), 'ack-only' (ok, but never switches),
 * 'mute' (carries relay commands out but never answers: an answer lost to a power cut).
 */
export type BoardMode = 'ok' | 'error' | 'silent' | 'ack-only' | 'mute'

/**
 * The heartbeat contract of a board, from the `deadman` of its retained device config (src/README.md "Gateway
 * heartbeat").
 */
export interface DeadmanContract {
  heartbeat_topic: string
  heartbeat_ms: number
  misses: number
  fail_safe_off: number[]
}

/** The board's side of the gateway heartbeat, as it stands. */
export interface DeadmanState {
  enabled: boolean
  contract?: DeadmanContract
  lastBeatAt?: number
  lastBootId?: string
  beats: number
  /** Every trip: when (board clock), the last heartbeat before it, the channels it turned off, and if reported. */
  trips: Array<{ at: number, lastBeatAt: number, channels: number[], reported: boolean }>
}

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
  /** true: the board keeps the gateway heartbeat contract (its dead-man, see DeadmanState). */
  deadman?: boolean
}

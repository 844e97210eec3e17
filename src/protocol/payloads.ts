/**
 * The TypeScript type of every topic family's payload (SPEC §3), and the map from family to it (`PayloadOf`).
 * Inbound payloads are checked against the JSON Schemas of protocol/schemas.ts before any handler sees them.
 */

/** SPEC §3 telemetry payload: `{key: number}` or `{key: {value, unit?}}`, optional `ts` (device time). */
export type TelemetryValue = number | boolean | string
export type TelemetryPayload = { ts?: number | string } &
Record<string, TelemetryValue | { value: TelemetryValue, unit?: string }>

/** SPEC §3 CAN payload: frames with an 11/29-bit id and data as hex (up to 8 bytes, or 64 for CAN FD). */
export interface CanPayload { ts?: number, frames: Array<{ id: number, data: string }> }

export interface AnnouncePayload {
  type: string
  name?: string
  firmware?: string
  ip?: string
  mac?: string
  capabilities?: string[]
}

export interface DeviceStatusPayload {
  status: 'online' | 'offline'
  uptime?: number
  rssi?: number
  free_heap?: number
  /** The devices.config_version the device has applied (SPEC §3 config; stored as devices.applied_config_version). */
  config_version?: number
}

/** `autocore/devices/{uuid}/error`: what a device reports going wrong (more fields may follow the two required). */
export interface DeviceErrorPayload { code: string | number, message: string, [field: string]: unknown }

export interface GatewayStatusPayload {
  status: 'online' | 'offline'
  version: string
  started_at: string
}

export interface DeviceCommandPayload { command_id: string, command: string, params: Record<string, unknown> }
export type RelayAction = 'on' | 'off' | 'toggle' | 'pulse'
export interface RelayCommandPayload {
  command_id: string
  channel: number
  action: RelayAction
  duration_ms?: number
}
export interface CommandResponsePayload { command_id: string, status: 'ok' | 'error', message?: string }
export interface RelayStatePayload { channels: Record<string, boolean> }
export interface RelaySetPayload { channel: number, action: RelayAction, duration_ms?: number, command_id?: string }
export interface EmergencyStatePayload {
  active: boolean
  reason: string | null
  source: string | null
  since: string | null
}
/** A panel's or button's stop request; read leniently (no schema: an allowed stop is never dropped over it). */
export interface EmergencyRequestPayload { reason?: unknown }

/** What the gateway tells a device on `autocore/devices/{uuid}/error/gateway` when it drops its publish. */
export interface GatewayErrorPayload {
  code: 'GW_ERR_MQTT_PAYLOAD_TOO_LARGE' | 'GW_ERR_MQTT_PAYLOAD_INVALID'
  message: string
  topic: string
}

/** `autocore/gateway/{id}/heartbeat`: a sequence number (from 1 at each start), the start's id, seconds since it. */
export interface GatewayHeartbeatPayload { seq: number, boot_id: string, uptime_s: number }

/**
 * The board's side of the heartbeat contract (README "Gateway heartbeat"): missing `misses` heartbeats on
 * `heartbeat_topic` (sent every `heartbeat_ms`), it turns the channels in `fail_safe_off` off and reports it.
 */
export interface DeadmanAnnouncement {
  heartbeat_topic: string
  heartbeat_ms: number
  misses: number
  fail_safe_off: number[]
}

/**
 * `autocore/devices/{uuid}/config`: the device's configuration object and its devices.config_version, with the
 * heartbeat contract (`deadman`) it is held to.
 */
export interface DeviceConfigPayload { version: number, config: Record<string, unknown>, deadman?: DeadmanAnnouncement }

/** One device type's theme: the base colors and fonts with that type's overrides merged in. */
export interface ThemeStyle { colors: Record<string, string>, fonts: Record<string, string | number> }

/**
 * `autocore/config/theme`: the active theme. `version` (epoch ms of its last change, strictly increasing over every
 * theme change and activation) with `name` identifies it; `device_types` holds, per device type with overrides,
 * the fully merged style, so a device reads `device_types[its type] ?? {colors, fonts}`.
 */
export interface ThemePayload extends ThemeStyle {
  name: string
  version: number
  updated_at: string
  device_types: Record<string, ThemeStyle>
}

/** One item of a screen as a display reads it: the relay it controls named by board and channel. */
export interface ScreenItemPayload {
  id: number
  type: string
  label: string
  position: number
  relay: { uuid: string, channel: number, name: string, function: string } | null
  mutex_group: string | null
  action: Record<string, unknown> | null
  data_source: Record<string, unknown> | null
  style: Record<string, unknown> | null
}

/**
 * `autocore/config/screens/{id}` (retained): an enabled screen and its items in order; `device_type` null means
 * every display shows it. A disabled or deleted screen's topic holds nothing.
 */
export interface ScreenPayload {
  id: number
  name: string
  title: string
  device_type: string | null
  position: number
  items: ScreenItemPayload[]
}

/** `autocore/config/update`: announces a change (the new content is on the retained topics above). */
export type ConfigUpdatePayload =
  | { scope: 'device', uuid: string, version: number }
  | { scope: 'theme', name: string, version: number }
  | { scope: 'screen', id: number }

/**
 * An event as the gateway publishes it on `autocore/events/{type}` (services/events.ts), as `GET /api/v1/events`
 * lists it and as the panel reads it.
 */
export interface EventMessage {
  id: number
  ts: string
  level: 'info' | 'warning' | 'error' | 'critical'
  type: string
  source: string
  action: string | null
  target: string | null
  username: string | null
  payload: Record<string, unknown> | null
}

/** Every family's payload type (families without a fixed shape: a JSON object). */
export interface Payloads {
  deviceAnnounce: AnnouncePayload
  deviceStatus: DeviceStatusPayload
  deviceTelemetry: TelemetryPayload
  telemetryData: TelemetryPayload
  deviceResponse: CommandResponsePayload
  deviceError: DeviceErrorPayload
  deviceConfigRequest: Record<string, unknown>
  relayState: RelayStatePayload
  canData: CanPayload
  deviceCommand: DeviceCommandPayload
  relayCommand: RelayCommandPayload
  deviceConfig: DeviceConfigPayload
  deviceGatewayError: GatewayErrorPayload
  configTheme: ThemePayload
  configScreen: ScreenPayload
  configUpdate: ConfigUpdatePayload
  emergencyState: EmergencyStatePayload
  emergencyStop: EmergencyRequestPayload
  emergencyReset: EmergencyRequestPayload
  gatewayStatus: GatewayStatusPayload
  gatewayHeartbeat: GatewayHeartbeatPayload
  events: Record<string, unknown>
  relaySet: RelaySetPayload
  macroRun: Record<string, unknown>
  health: unknown
}

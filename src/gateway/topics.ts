/**
 * The only place topic strings are built or parsed. Everything under the `autocore/` prefix of SPEC §3.
 */
export const PREFIX = 'autocore'

export const topics = {
  gatewayStatus: (gatewayId: string) => `${PREFIX}/gateway/${gatewayId}/status`,
  /** The dead-man signal (issue 14): QoS 0, not retained, every gateway.heartbeatMs. */
  gatewayHeartbeat: (gatewayId: string) => `${PREFIX}/gateway/${gatewayId}/heartbeat`,
  /** The health identity's private echo topic (`autocore-gateway health` publishes and expects its message back). */
  health: (clientId: string) => `${PREFIX}/health/${clientId}`,
  /** SPEC §3: a device's telemetry, and its alias. */
  deviceTelemetry: (uuid: string) => `${PREFIX}/devices/${uuid}/telemetry`,
  telemetryData: (uuid: string) => `${PREFIX}/telemetry/${uuid}/data`,
  /** SPEC §3: raw CAN frames from a CAN bridge, decoded with can_signals. */
  canData: (uuid: string) => `${PREFIX}/can/${uuid}/data`
} as const

/** Router patterns (gateway/router.ts syntax) for the topics above. */
export const patterns = {
  canData: `${PREFIX}/can/:uuid/data`
} as const

/**
 * The device uuid of a telemetry topic (either form of SPEC §3), or undefined when the topic is not one.
 * Called for every client publish, so it compares in place instead of splitting the topic.
 */
export function telemetryTopicUuid (topic: string): string | undefined {
  const devices = `${PREFIX}/devices/`
  const telemetry = `${PREFIX}/telemetry/`
  let start: number
  let suffix: string
  if (topic.startsWith(devices)) {
    start = devices.length
    suffix = '/telemetry'
  } else if (topic.startsWith(telemetry)) {
    start = telemetry.length
    suffix = '/data'
  } else {
    return undefined
  }
  if (!topic.endsWith(suffix)) return undefined
  const end = topic.length - suffix.length
  if (end <= start) return undefined
  const uuid = topic.slice(start, end)
  return uuid.includes('/') ? undefined : uuid
}

/** SPEC §3 telemetry payload: `{key: number}` or `{key: {value, unit?}}`, optional `ts` (device time). */
export type TelemetryValue = number | boolean | string
export type TelemetryPayload = { ts?: number | string } & Record<
  string,
  TelemetryValue | { value: TelemetryValue, unit?: string }
>

/** SPEC §3 CAN payload: frames with an 11/29-bit id and data as hex (up to 8 bytes, or 64 for CAN FD). */
export interface CanPayload { ts?: number, frames: Array<{ id: number, data: string }> }

export interface GatewayStatusPayload {
  status: 'online' | 'offline'
  version: string
  started_at: string
}

/** Control topics (SPEC §3): commands, relays, macros, emergency stop, events. */
export const controlTopics = {
  deviceCommand: (uuid: string) => `${PREFIX}/devices/${uuid}/command`,
  relayCommand: (uuid: string) => `${PREFIX}/relays/${uuid}/command`,
  emergencyStop: `${PREFIX}/emergency/stop`,
  emergencyReset: `${PREFIX}/emergency/reset`,
  emergencyState: `${PREFIX}/emergency/state`,
  event: (eventType: string) => `${PREFIX}/events/${eventType}`
} as const

/** Router patterns of the control topics the gateway handles (named parameters, see router.ts). */
export const controlPatterns = {
  deviceResponse: `${PREFIX}/devices/:uuid/response`,
  relayState: `${PREFIX}/relays/:uuid/state`,
  relaySet: `${PREFIX}/relays/:uuid/set`,
  macroRun: `${PREFIX}/macros/:id/run`
} as const

export interface DeviceCommandPayload { command_id: string, command: string, params: Record<string, unknown> }
export type RelayAction = 'on' | 'off' | 'toggle' | 'pulse'
export interface RelayCommandPayload { command_id: string, channel: number, action: RelayAction, duration_ms?: number }
export interface CommandResponsePayload { command_id: string, status: 'ok' | 'error', message?: string }
export interface RelayStatePayload { channels: Record<string, boolean> }
export interface RelaySetPayload { channel: number, action: RelayAction, duration_ms?: number, command_id?: string }
export interface EmergencyStatePayload {
  active: boolean
  reason: string | null
  source: string | null
  since: string | null
}

/** MQTT filter matching (`+` one level, `#` the rest) [MQTT-4.7.1]. */
export function matchesFilter (filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false
  }
  return f.length === t.length
}

/** Topics only the gateway itself may produce from its own logic (commands, emergency): never macro output. */
export const gatewayOnlyFilters = [
  `${PREFIX}/devices/+/command`,
  `${PREFIX}/relays/+/command`,
  `${PREFIX}/emergency/#`,
  `${PREFIX}/macros/+/run`
] as const

/**
 * Every topic family of SPEC §3 as a pattern with named single-level parameters (the router's syntax).
 * ACL, payload schemas and routes all key on these names.
 */
export const families = {
  // device → gateway
  deviceAnnounce: `${PREFIX}/devices/:uuid/announce`,
  deviceStatus: `${PREFIX}/devices/:uuid/status`,
  deviceTelemetry: `${PREFIX}/devices/:uuid/telemetry`,
  telemetryData: `${PREFIX}/telemetry/:uuid/data`,
  deviceResponse: `${PREFIX}/devices/:uuid/response`,
  deviceError: `${PREFIX}/devices/:uuid/error`,
  deviceConfigRequest: `${PREFIX}/devices/:uuid/config/request`,
  relayState: `${PREFIX}/relays/:uuid/state`,
  canData: `${PREFIX}/can/:uuid/data`,
  // gateway → devices and panels
  deviceCommand: `${PREFIX}/devices/:uuid/command`,
  relayCommand: `${PREFIX}/relays/:uuid/command`,
  deviceConfig: `${PREFIX}/devices/:uuid/config`,
  deviceGatewayError: `${PREFIX}/devices/:uuid/error/gateway`,
  configTheme: `${PREFIX}/config/theme`,
  configUpdate: `${PREFIX}/config/update`,
  emergencyState: `${PREFIX}/emergency/state`,
  emergencyStop: `${PREFIX}/emergency/stop`,
  emergencyReset: `${PREFIX}/emergency/reset`,
  gatewayStatus: `${PREFIX}/gateway/:id/status`,
  gatewayHeartbeat: `${PREFIX}/gateway/:id/heartbeat`,
  events: `${PREFIX}/events/:type`,
  // panels → gateway
  relaySet: `${PREFIX}/relays/:uuid/set`,
  macroRun: `${PREFIX}/macros/:id/run`,
  // the health identity's echo
  health: `${PREFIX}/health/:id`
} as const

export type TopicFamily = keyof typeof families

/** A family's pattern with its parameters filled in; parameters not given become the `+` wildcard. */
export function familyTopic (family: TopicFamily, params: Record<string, string> = {}): string {
  return families[family].split('/').map(s => s.startsWith(':') ? (params[s.slice(1)] ?? '+') : s).join('/')
}

// Families indexed by level count and second level, so a publish compares against two or three patterns, not all.
// Each pattern level is its literal, or the parameter's name (`param`) for a `:name` level.
interface IndexedFamily { name: TopicFamily, levels: Array<{ literal?: string, param?: string }> }
const familyIndex = new Map<string, IndexedFamily[]>()
for (const [name, pattern] of Object.entries(families)) {
  const segments = pattern.split('/')
  const key = `${segments.length}/${segments[1]}`
  const levels = segments.map(s => s.startsWith(':') ? { param: s.slice(1) } : { literal: s })
  familyIndex.set(key, [...(familyIndex.get(key) ?? []), { name: name as TopicFamily, levels }])
}

/** Called for every client publish: compares every level before it allocates the parameters of a match. */
function matchLevels (f: IndexedFamily, levels: string[]): Record<string, string> | undefined {
  for (let i = 0; i < levels.length; i++) {
    const { literal } = f.levels[i]
    if (literal === undefined) {
      if (levels[i] === '' || levels[i] === '+' || levels[i] === '#') return undefined
    } else if (literal !== levels[i]) {
      return undefined
    }
  }
  const params: Record<string, string> = {}
  for (let i = 0; i < levels.length; i++) {
    const { param } = f.levels[i]
    if (param !== undefined) params[param] = levels[i]
  }
  return params
}

/** A concrete topic's SPEC §3 family and the values of its named levels. */
export interface ParsedTopic { family: TopicFamily, params: Record<string, string> }

/** Which family a concrete topic belongs to, with its parameters; undefined outside SPEC §3. */
export function parseTopic (topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(PREFIX + '/')) return undefined
  const levels = topic.split('/')
  for (const f of familyIndex.get(`${levels.length}/${levels[1]}`) ?? []) {
    const params = matchLevels(f, levels)
    if (params !== undefined) return { family: f.name, params }
  }
  return undefined
}

/** Device ids the gateway accepts: RFC 4122 UUIDs and the short ids of the original notes (`esp32-001`). */
export const DEVICE_ID =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z0-9][a-z0-9-]{2,63})$/

export interface DeviceStatusPayload {
  status: 'online' | 'offline'
  uptime?: number
  rssi?: number
  free_heap?: number
  /** The devices.config_version the device has applied (SPEC §3 config; stored as devices.applied_config_version). */
  config_version?: number
}

export interface AnnouncePayload {
  type: string
  name?: string
  firmware?: string
  ip?: string
  mac?: string
  capabilities?: string[]
}

/** What the gateway tells a device on `autocore/devices/{uuid}/error/gateway` when it drops its publish. */
export interface GatewayErrorPayload {
  code: 'GW_ERR_MQTT_PAYLOAD_TOO_LARGE' | 'GW_ERR_MQTT_PAYLOAD_INVALID'
  message: string
  topic: string
}

/** Config and theme distribution (SPEC §3, §4): what the gateway publishes, and the filters it reads back. */
export const configTopics = {
  /** Retained, QoS 1: one device's configuration. */
  deviceConfig: (uuid: string) => familyTopic('deviceConfig', { uuid }),
  /** Every device's retained configuration (a filter). */
  allDeviceConfigs: familyTopic('deviceConfig'),
  /** Retained, QoS 1: the active theme. */
  theme: families.configTheme,
  /** QoS 1, not retained: "configuration changed". */
  update: families.configUpdate
} as const

/** The uuid of a concrete `autocore/devices/{uuid}/config` topic, else undefined. */
export function deviceConfigTopicUuid (topic: string): string | undefined {
  const parsed = parseTopic(topic)
  return parsed?.family === 'deviceConfig' ? parsed.params.uuid : undefined
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

/** `autocore/config/update`: announces a change (the new content is on the retained topics above). */
export type ConfigUpdatePayload =
  | { scope: 'device', uuid: string, version: number }
  | { scope: 'theme', name: string, version: number }

/**
 * The only place topic strings are built or parsed. Everything under the `autocore/` prefix of SPEC §3.
 */
export const PREFIX = 'autocore'

export const topics = {
  gatewayStatus: (gatewayId: string) => `${PREFIX}/gateway/${gatewayId}/status`,
  /** The health identity's private echo topic (`autocore-gateway health` publishes and expects its message back). */
  health: (clientId: string) => `${PREFIX}/health/${clientId}`
} as const

export interface GatewayStatusPayload {
  status: 'online' | 'offline'
  version: string
  started_at: string
}

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
const familyIndex = new Map<string, Array<{ name: TopicFamily, segments: string[] }>>()
for (const [name, pattern] of Object.entries(families)) {
  const segments = pattern.split('/')
  const key = `${segments.length}/${segments[1]}`
  familyIndex.set(key, [...(familyIndex.get(key) ?? []), { name: name as TopicFamily, segments }])
}

function matchLevels (segments: string[], levels: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {}
  for (let i = 0; i < levels.length; i++) {
    const s = segments[i]
    if (s.startsWith(':')) {
      if (levels[i] === '' || levels[i] === '+' || levels[i] === '#') return undefined
      params[s.slice(1)] = levels[i]
    } else if (s !== levels[i]) {
      return undefined
    }
  }
  return params
}

/** Which family a concrete topic belongs to, with its parameters; undefined outside SPEC §3. */
export function parseTopic (topic: string): { family: TopicFamily, params: Record<string, string> } | undefined {
  if (!topic.startsWith(PREFIX + '/')) return undefined
  const levels = topic.split('/')
  for (const f of familyIndex.get(`${levels.length}/${levels[1]}`) ?? []) {
    const params = matchLevels(f.segments, levels)
    if (params !== undefined) return { family: f.name, params }
  }
  return undefined
}

/** Device ids the gateway accepts: RFC 4122 UUIDs and the short ids of the original notes (`esp32-001`). */
export const DEVICE_ID = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z0-9][a-z0-9-]{2,63})$/

export interface DeviceStatusPayload {
  status: 'online' | 'offline'
  uptime?: number
  rssi?: number
  free_heap?: number
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

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
export interface EmergencyStatePayload { active: boolean, reason: string | null, source: string | null, since: string | null }

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
export const gatewayOnlyFilters = [`${PREFIX}/devices/+/command`, `${PREFIX}/relays/+/command`, `${PREFIX}/emergency/#`, `${PREFIX}/macros/+/run`] as const

/** The shapes the panel reads: the REST answers of /api/v1 and what it keeps in its store. */
import type { EventMessage } from '../protocol/payloads.js'

export type Role = 'viewer' | 'operator' | 'admin'
export type Level = EventMessage['level']
export const LEVELS: readonly Level[] = ['info', 'warning', 'error', 'critical']

export interface Session {
  token: string
  username: string
  role: Role
  /** Expiry on this browser's clock (the server's expiresAt corrected by the skew seen at login). */
  expiresAtLocal: number
  /** The gateway's clock minus this browser's, seen at login: charts and series ranges use the gateway's time. */
  skewMs: number
}

export interface Page<T> { items: T[], total: number, limit: number, offset: number }

export interface DeviceItem {
  uuid: string
  name: string
  type: string
  status: 'online' | 'offline' | 'pending'
  enabled: boolean
  firmware: string | null
  ipAddress: string | null
  macAddress: string | null
  capabilities: string[]
  lastSeen: string | null
  configVersion?: number | null
  appliedConfigVersion?: number | null
}

export interface RelayItem {
  id: number
  deviceUuid: string
  deviceName: string
  channelNumber: number
  name: string
  function: 'toggle' | 'momentary' | 'pulse'
  mutexGroup: string | null
  maxOnMs: number | null
  pulseMs: number | null
  defaultState?: boolean | null
  currentState: boolean | null
  desiredState: boolean | null
  enabled: boolean
}

export interface MacroItem {
  id: number
  name: string
  description: string | null
  enabled: boolean
  actions: unknown[]
}

export type EventItem = EventMessage

export interface EmergencyState { active: boolean, reason: string | null, source: string | null, since: string | null }

export interface Point { t: number, v: number }
export interface Reading {
  value: number | boolean | string
  unit: string | null
  ts: number
  points: Point[]
  loaded: boolean
}

export type LinkStatus = 'connecting' | 'online' | 'reconnecting' | 'offline'
export interface LinkState { status: LinkStatus, attempt: number, retryAt: number | null, error: string | null }

/** A control request waiting for the board's confirmation (or for a refusal event). */
export interface Pending { want: boolean | 'pulse', since: number, error: string | null }

export interface MacroRun { runId: number | null, status: string, step: number, steps: number, message: string | null }

/** A part of the store filled from the API: not yet asked, loaded, or failed (the message says why). */
export interface Loadable { loaded: boolean, error: string | null }

export type ViewId = 'devices' | 'telemetry' | 'relays' | 'macros' | 'events' | 'setup' | 'system'
/** `admin`: the setup views, shown to admins only (the API refuses everyone else anyway). */
export const VIEWS: ReadonlyArray<{ id: ViewId, label: string, admin?: true }> = [
  { id: 'devices', label: 'Devices' },
  { id: 'telemetry', label: 'Telemetry' },
  { id: 'relays', label: 'Relays' },
  { id: 'macros', label: 'Macros' },
  { id: 'events', label: 'Events' },
  { id: 'setup', label: 'Setup', admin: true },
  { id: 'system', label: 'System', admin: true }
]

export const viewsFor = (role: Role | undefined): typeof VIEWS =>
  VIEWS.filter(v => v.admin !== true || role === 'admin')

export interface Toast { id: number, text: string, level: Level }

export interface PanelState {
  session: Session | null
  /** Why the login screen is shown again (expired token, refused connection). */
  notice: string | null
  link: LinkState
  view: ViewId
  devices: Record<string, DeviceItem>
  devicesLoad: Loadable
  telemetry: Record<string, Record<string, Reading>>
  telemetryDevice: string | null
  relays: RelayItem[]
  relaysLoad: Loadable
  /** Confirmed channel states, only from the boards' retained `relays/{uuid}/state`. */
  relayStates: Record<string, Record<string, boolean>>
  pending: Record<string, Pending>
  macros: MacroItem[]
  macrosLoad: Loadable
  macroRuns: Record<string, MacroRun>
  events: EventItem[]
  eventsLoad: Loadable
  eventLevels: Level[]
  emergency: EmergencyState | null
  toasts: Toast[]
  now: number
}

export const canControl = (role: Role | undefined): boolean => role === 'operator' || role === 'admin'

export function initialState (session: Session | null, view: ViewId, now: number): PanelState {
  const idle = { loaded: false, error: null }
  return {
    session,
    notice: null,
    link: { status: 'connecting', attempt: 0, retryAt: null, error: null },
    view,
    devices: {},
    devicesLoad: idle,
    telemetry: {},
    telemetryDevice: null,
    relays: [],
    relaysLoad: idle,
    relayStates: {},
    pending: {},
    macros: [],
    macrosLoad: idle,
    macroRuns: {},
    events: [],
    eventsLoad: idle,
    eventLevels: [...LEVELS],
    emergency: null,
    toasts: [],
    now
  }
}

export const channelKey = (uuid: string, channel: number | string): string => `${uuid}/${channel}`

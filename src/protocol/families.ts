import * as schemas from './schemas.js'

/** Every topic of the contract is under this prefix (SPEC §3). */
export const PREFIX = 'autocore'

/**
 * Who may publish a family's topics, besides the gateway itself and admins (who may publish every family but the
 * devices' own): `device` the device named by the topic's `uuid`, `pending` the same while not yet approved
 * (devices.autoRegister), `emergencyButton` any device with that capability, `operator` operators (and admins),
 * `health` the health identity on its own `id`.
 */
export type Publisher = 'device' | 'pending' | 'emergencyButton' | 'operator' | 'health'

/**
 * Who may read (subscribe to, be delivered) a family's topics; admins read everything. `owner` the device named by
 * the topic's `uuid`, `pending` the same while not yet approved, `devices` every approved device, `display` devices
 * of a display type, `users` every user, `health` the health identity (`healthOwner`: on its own `id`).
 */
export type Reader = 'owner' | 'pending' | 'devices' | 'display' | 'users' | 'health' | 'healthOwner'

/** device → gateway, gateway → devices and panels, panel → gateway (requests), the health identity's echo. */
export type Direction = 'device' | 'gateway' | 'panel' | 'health'

export interface FamilyDef {
  /** Levels of the topic; `:name` is a single-level parameter. */
  readonly pattern: string
  readonly direction: Direction
  readonly publish: readonly Publisher[]
  readonly read: readonly Reader[]
  /** Devices may retain their publishes of this family (nothing else a device publishes may be retained). */
  readonly deviceRetains?: true
  /** The JSON Schema its payloads must pass (protocol/validate.ts); none: size-checked only. */
  readonly schema?: object
}

/**
 * The one table of SPEC §3's topic families: pattern, direction, who may publish and read (auth/acl.ts decides
 * from it), payload schema; the payload types are protocol/payloads.ts `Payloads`, keyed by the same names.
 * Adding a family is one entry here (and its type there).
 */
export const families = {
  // device → gateway
  deviceAnnounce: {
    pattern: `${PREFIX}/devices/:uuid/announce`,
    direction: 'device',
    publish: ['device', 'pending'],
    read: ['users'],
    schema: schemas.announce
  },
  deviceStatus: {
    pattern: `${PREFIX}/devices/:uuid/status`,
    direction: 'device',
    publish: ['device', 'pending'],
    read: ['users', 'display'],
    deviceRetains: true,
    schema: schemas.deviceStatus
  },
  deviceTelemetry: {
    pattern: `${PREFIX}/devices/:uuid/telemetry`,
    direction: 'device',
    publish: ['device'],
    read: ['users', 'display'],
    schema: schemas.telemetry
  },
  telemetryData: {
    pattern: `${PREFIX}/telemetry/:uuid/data`,
    direction: 'device',
    publish: ['device'],
    read: ['users', 'display'],
    schema: schemas.telemetry
  },
  deviceResponse: {
    pattern: `${PREFIX}/devices/:uuid/response`,
    direction: 'device',
    publish: ['device'],
    read: ['users'],
    schema: schemas.commandResponse
  },
  deviceError: {
    pattern: `${PREFIX}/devices/:uuid/error`,
    direction: 'device',
    publish: ['device'],
    read: ['users'],
    schema: schemas.deviceError
  },
  deviceConfigRequest: {
    pattern: `${PREFIX}/devices/:uuid/config/request`,
    direction: 'device',
    publish: ['device'],
    read: ['users'],
    schema: schemas.anyObject
  },
  relayState: {
    pattern: `${PREFIX}/relays/:uuid/state`,
    direction: 'device',
    publish: ['device'],
    read: ['users', 'display'],
    deviceRetains: true,
    schema: schemas.relayState
  },
  canData: {
    pattern: `${PREFIX}/can/:uuid/data`,
    direction: 'device',
    publish: ['device'],
    read: ['users'],
    schema: schemas.canData
  },
  // gateway → devices and panels
  deviceCommand: { pattern: `${PREFIX}/devices/:uuid/command`, direction: 'gateway', publish: [], read: ['owner'] },
  relayCommand: { pattern: `${PREFIX}/relays/:uuid/command`, direction: 'gateway', publish: [], read: ['owner'] },
  deviceConfig: {
    pattern: `${PREFIX}/devices/:uuid/config`,
    direction: 'gateway',
    publish: [],
    read: ['owner', 'users']
  },
  deviceGatewayError: {
    pattern: `${PREFIX}/devices/:uuid/error/gateway`,
    direction: 'gateway',
    publish: [],
    read: ['owner', 'pending', 'users']
  },
  configTheme: { pattern: `${PREFIX}/config/theme`, direction: 'gateway', publish: [], read: ['devices', 'users'] },
  configScreen: {
    pattern: `${PREFIX}/config/screens/:id`,
    direction: 'gateway',
    publish: [],
    read: ['devices', 'users']
  },
  configUpdate: { pattern: `${PREFIX}/config/update`, direction: 'gateway', publish: [], read: ['devices', 'users'] },
  emergencyState: {
    pattern: `${PREFIX}/emergency/state`,
    direction: 'gateway',
    publish: [],
    read: ['devices', 'users']
  },
  // Also a panel request (operators, emergency buttons): the gateway broadcasts its own canonical stop and reset.
  // No schema: an allowed stop must never be dropped over its payload (size-checked only).
  emergencyStop: {
    pattern: `${PREFIX}/emergency/stop`,
    direction: 'gateway',
    publish: ['operator', 'emergencyButton'],
    read: ['devices', 'users']
  },
  emergencyReset: {
    pattern: `${PREFIX}/emergency/reset`,
    direction: 'gateway',
    publish: [],
    read: ['devices', 'users']
  },
  gatewayStatus: {
    pattern: `${PREFIX}/gateway/:id/status`,
    direction: 'gateway',
    publish: [],
    read: ['devices', 'users', 'health']
  },
  gatewayHeartbeat: {
    pattern: `${PREFIX}/gateway/:id/heartbeat`,
    direction: 'gateway',
    publish: [],
    read: ['devices', 'users']
  },
  events: { pattern: `${PREFIX}/events/:type`, direction: 'gateway', publish: [], read: ['users'] },
  // panels → gateway
  relaySet: {
    pattern: `${PREFIX}/relays/:uuid/set`,
    direction: 'panel',
    publish: ['operator'],
    read: [],
    schema: schemas.relaySet
  },
  macroRun: {
    pattern: `${PREFIX}/macros/:id/run`,
    direction: 'panel',
    publish: ['operator'],
    read: [],
    schema: schemas.anyObject
  },
  // the health identity's echo (`autocore-gateway health` publishes and expects its message back)
  health: { pattern: `${PREFIX}/health/:id`, direction: 'health', publish: ['health'], read: ['healthOwner'] }
} as const satisfies Record<string, FamilyDef>

export type TopicFamily = keyof typeof families

/**
 * Whole subtrees readers get, beyond the families in them: anything published under `autocore/config/`,
 * `autocore/emergency/` (devices and users) and `autocore/events/` (users) is theirs to read.
 */
export const subtrees: ReadonlyArray<{ readonly filter: string, readonly read: readonly Reader[] }> = [
  { filter: `${PREFIX}/config/#`, read: ['devices', 'users'] },
  { filter: `${PREFIX}/emergency/#`, read: ['devices', 'users'] },
  { filter: `${PREFIX}/events/#`, read: ['users'] }
]

import type { Config } from './config/types.js'
import type { Logger } from './log.js'
import type { EventBus } from './events.js'
import type { Database } from './persistence/database.js'
import type { Broker } from './broker/broker.js'
import type { Clock } from './clock.js'
import type { BrokerHooks } from './broker/hooks.js'
import type { TelemetryStore } from './services/telemetry.js'
import type { Repositories } from './persistence/repositories/index.js'
import type { EventsService } from './services/events.js'
import type { FailureLimiter } from './auth/failure-limiter.js'
import type { Authenticator } from './auth/authenticate.js'
import type { DeviceConfigService } from './services/device-config.js'
import type { ThemeService } from './services/themes.js'

/** Everything a service needs, built once by app.ts and passed down; there are no globals. */
export interface AppContext {
  readonly config: Config
  readonly log: Logger
  readonly bus: EventBus
  readonly clock: Clock
  readonly db: Database
  readonly broker: Broker
  /** Who each MQTT client is, and the publish pipeline services add their steps to. */
  readonly hooks: Pick<BrokerHooks, 'principalOf' | 'useInbound' | 'deliveredPublish' | 'refusals'>
  readonly startedAt: number
  /** Telemetry buffer and repository: fed by the ingest step and the CAN handler, read by /health. */
  readonly telemetry: TelemetryStore
  /** The only code touching TypeORM (persistence/repositories/). */
  readonly repos: Repositories
  /** Records an event: event_logs row + `autocore/events/{type}` publish. */
  readonly events: EventsService
  /** Credential checks with failed-login throttling (shared by MQTT and HTTP), and the login-token key. */
  readonly auth: {
    readonly authenticator: Authenticator
    readonly limiter: FailureLimiter
    readonly jwtKey: Uint8Array
  }
  /** Device configs retained on `autocore/devices/{uuid}/config` (MQTT requests and the API use the same service). */
  readonly deviceConfig: DeviceConfigService
  /** The active theme retained on `autocore/config/theme`, and theme CRUD for the API. */
  readonly themes: ThemeService
}

/** A long-lived part of the gateway. Constructors only assign fields; work starts in start(). */
export interface Service {
  readonly name: string
  start: () => Promise<void>
  stop: () => Promise<void>
}

import type { AppContext, Service } from '../context.js'
import type { BrokerHooks } from '../broker/hooks.js'
import type { Authenticator } from '../auth/authenticate.js'
import type { FailureLimiter } from '../auth/failure-limiter.js'
import type { Repositories } from '../persistence/repositories/index.js'
import { AccessAuditService } from './access-audit.js'
import { BackupService } from './backups.js'
import { CommandService } from './commands.js'
import { DeviceConfigService } from './device-config.js'
import { EmergencyLatch } from './emergency-latch.js'
import { EmergencyService } from './emergency.js'
import { EventsService } from './events.js'
import { GatewayStatusService } from './gateway-status.js'
import { HeartbeatService } from './heartbeat.js'
import { ControlJournal } from './journal.js'
import { MacroService } from './macros.js'
import { createMetrics, MetricsService, type GatewayMetrics } from './metrics.js'
import { PresenceService } from './presence.js'
import { RelayService } from './relays.js'
import { RetentionService } from './retention.js'
import { SessionRecheckService } from './session-recheck.js'
import { TelemetryService, type TelemetryStore } from './telemetry.js'
import { ThemeService } from './themes.js'
import { ScreenPublisher } from './screen-publisher.js'
import { WebhookService } from './webhooks.js'

/** Credential checks with failed-login throttling (shared by MQTT and HTTP), and the login-token key. */
export interface AuthParts {
  readonly authenticator: Authenticator
  readonly limiter: FailureLimiter
  readonly jwtKey: Uint8Array
}

/** What app.ts builds before the services: the infrastructure and the parts the broker needs before it starts. */
export interface Foundations extends AppContext {
  /** The only code touching TypeORM (persistence/repositories/), built once. */
  readonly repos: Repositories
  /** Who each MQTT client is, and where the inbound table (gateway/inbound.ts) is installed. */
  readonly hooks: Pick<BrokerHooks, 'principalOf' | 'useInbound' | 'deliveredPublish' | 'refusals'>
  readonly auth: AuthParts
  /** Telemetry buffer and repository: fed by the ingest step and the CAN handler, read by /health; built before
   * the broker so it is flushed after the broker closes. */
  readonly telemetry: TelemetryStore
}

/**
 * The one services bag: the foundations and every long-lived part, built once here. MQTT handlers, the HTTP API
 * and the services themselves take it; `context.ts` stays infrastructure only.
 */
export interface Services extends Foundations {
  /** Records an event: event_logs row + `autocore/events/{type}` publish. */
  readonly events: EventsService
  /** This app's Prometheus registry and metrics, fed by the bus once MetricsService starts. */
  readonly metrics: GatewayMetrics
  /** Device configs retained on `autocore/devices/{uuid}/config` (MQTT requests and the API). */
  readonly deviceConfig: DeviceConfigService
  /** The active theme retained on `autocore/config/theme`, and theme CRUD for the API. */
  readonly themes: ThemeService
  /** The displays' screens retained on `autocore/config/screens/{id}`; the screen routes call it after a change. */
  readonly screens: ScreenPublisher
  /** The black-box journal of control actions. */
  readonly journal: ControlJournal
  /** The control services: MQTT and the HTTP API call the same ones (relays.setChannel, macros.run, ...). */
  readonly commands: CommandService
  readonly relays: RelayService
  readonly macros: MacroService
  readonly emergency: EmergencyService
  /** Who is online: fed by the broker's connection events and by every message an approved device sends. */
  readonly presence: PresenceService
}

export interface BuiltServices {
  readonly services: Services
  /** In start order (they stop in reverse): each may rely on those before it. */
  readonly startOrder: Service[]
}

type Building = { -readonly [K in keyof Services]: Services[K] }

/**
 * Builds every service on one bag. Constructors only assign fields, so each gets the bag itself and reads the
 * others when it starts or is called; those built earlier here are the only ones a constructor may read.
 * `inbound` is what the gateway does with each client publish (gateway/inbound.ts), built on the finished bag
 * (it installs itself on the broker hooks) and started after the config services.
 */
export function createServices (base: Foundations, inbound: (services: Services) => Service): BuiltServices {
  const s = { ...base } as Building
  s.metrics = createMetrics(s)
  s.events = new EventsService(s)
  s.journal = new ControlJournal(s.repos.journal, s.clock, s.log)
  s.deviceConfig = new DeviceConfigService(s)
  s.themes = new ThemeService(s)
  s.screens = new ScreenPublisher(s)
  const latch = new EmergencyLatch()
  s.commands = new CommandService(s)
  s.relays = new RelayService(s, latch)
  s.macros = new MacroService(s, latch)
  s.emergency = new EmergencyService(s, latch)
  s.presence = new PresenceService(s)
  const services: Services = s
  const startOrder: Service[] = [
    new MetricsService(services, s.metrics),
    new AccessAuditService(services),
    new GatewayStatusService(services),
    new HeartbeatService(services),
    s.presence,
    new SessionRecheckService(services),
    // The emergency service first: the lockout holds before anything can ask for a relay.
    s.emergency,
    s.commands,
    s.relays,
    s.macros,
    s.deviceConfig,
    s.themes,
    s.screens,
    inbound(services),
    new BackupService(services),
    new TelemetryService(services),
    new RetentionService(services),
    // Last: every service that logs events runs before it, and it stops first, well before the database closes.
    new WebhookService(services)
  ]
  return { services, startOrder }
}

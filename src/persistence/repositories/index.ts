import type { Database } from '../database.js'
import { CommandsRepository } from './commands.js'
import { DevicesRepository } from './devices.js'
import { EventsRepository } from './events.js'
import { UsersRepository } from './users.js'
import { RelaysRepository } from './relays.js'
import { MacrosRepository } from './macros.js'
import { ScreensRepository } from './screens.js'
import { CanSignalRepository } from './can-signals.js'
import { WebhookOutboxRepository } from './webhook-outbox.js'
import { WebhooksRepository } from './webhooks.js'
import { JournalRepository } from './journal.js'
import { DeviceConfigRepository } from './device-config.js'
import { ThemesRepository } from './themes.js'
import { SystemStatusRepository } from './system-status.js'
import { TelemetryRepository } from './telemetry.js'
import { TelemetryChunkRepository } from './telemetry-chunks.js'
import { TelemetryAggregateChunkRepository } from './telemetry-aggregate-chunks.js'
import { TelemetryRetentionRepository } from './telemetry-retention.js'

/**
 * Every repository, built once on the open database (app.ts) and handed to the services as `services.repos`;
 * nothing else builds one (the CLI builds its own set on the database it opens).
 */
export interface Repositories {
  readonly devices: DevicesRepository
  readonly users: UsersRepository
  readonly events: EventsRepository
  readonly commands: CommandsRepository
  readonly relays: RelaysRepository
  readonly macros: MacrosRepository
  readonly screens: ScreensRepository
  readonly canSignals: CanSignalRepository
  readonly webhooks: WebhooksRepository
  /** Event + webhook deliveries in one transaction; due deliveries and their attempts (services/webhooks.ts). */
  readonly outbox: WebhookOutboxRepository
  /** The black-box journal of control actions (services/journal.ts). */
  readonly journal: JournalRepository
  readonly deviceConfigs: DeviceConfigRepository
  readonly themes: ThemesRepository
  /** Small persisted state: the emergency record. */
  readonly systemStatus: SystemStatusRepository
  /** The head of the telemetry store (telemetry_data), read together with its closed chunks. */
  readonly telemetry: TelemetryRepository
  readonly telemetryChunks: TelemetryChunkRepository
  /** Days of minute aggregates in one chunk per series (telemetry.chunkStore), read with the aggregates. */
  readonly telemetryAggregateChunks: TelemetryAggregateChunkRepository
  /** The retention job's folds and deletes. */
  readonly retention: TelemetryRetentionRepository
}

export function createRepositories (db: Database): Repositories {
  const telemetryChunks = new TelemetryChunkRepository(db.dataSource)
  const telemetryAggregateChunks = new TelemetryAggregateChunkRepository(db.dataSource)
  return {
    devices: new DevicesRepository(db.dataSource),
    users: new UsersRepository(db.dataSource),
    events: new EventsRepository(db.dataSource),
    commands: new CommandsRepository(db.dataSource),
    relays: new RelaysRepository(db.dataSource),
    macros: new MacrosRepository(db.dataSource),
    screens: new ScreensRepository(db.dataSource),
    canSignals: new CanSignalRepository(db.dataSource),
    webhooks: new WebhooksRepository(db.dataSource),
    outbox: new WebhookOutboxRepository(db.dataSource),
    journal: new JournalRepository(db.dataSource),
    deviceConfigs: new DeviceConfigRepository(db.dataSource),
    themes: new ThemesRepository(db.dataSource),
    systemStatus: new SystemStatusRepository(db.dataSource),
    telemetry: new TelemetryRepository(db.dataSource, telemetryChunks, telemetryAggregateChunks),
    telemetryChunks,
    telemetryAggregateChunks,
    retention: new TelemetryRetentionRepository(db.dataSource)
  }
}

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

/** Every repository, built once on the open database and exposed as `ctx.repos`. */
export interface Repositories {
  readonly devices: DevicesRepository
  readonly users: UsersRepository
  readonly events: EventsRepository
  /** Reads for the API; the command service writes through its own instance. */
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
}

export function createRepositories (db: Database): Repositories {
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
    journal: new JournalRepository(db.dataSource)
  }
}

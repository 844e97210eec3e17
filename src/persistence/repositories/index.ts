import type { Database } from '../database.js'
import { DevicesRepository } from './devices.js'
import { EventsRepository } from './events.js'
import { UsersRepository } from './users.js'
import { WebhookOutboxRepository } from './webhook-outbox.js'
import { WebhooksRepository } from './webhooks.js'

/** Every repository, built once on the open database and exposed as `ctx.repos`. */
export interface Repositories {
  readonly devices: DevicesRepository
  readonly users: UsersRepository
  readonly events: EventsRepository
  readonly webhooks: WebhooksRepository
  /** Event + webhook deliveries in one transaction; due deliveries and their attempts (services/webhooks.ts). */
  readonly outbox: WebhookOutboxRepository
}

export function createRepositories (db: Database): Repositories {
  return {
    devices: new DevicesRepository(db.dataSource),
    users: new UsersRepository(db.dataSource),
    events: new EventsRepository(db.dataSource),
    webhooks: new WebhooksRepository(db.dataSource),
    outbox: new WebhookOutboxRepository(db.dataSource)
  }
}

import type { Config } from './config/types.js'
import type { Logger } from './log.js'
import type { EventBus } from './events.js'
import type { Database } from './persistence/database.js'
import type { Broker } from './broker/broker.js'
import type { Clock } from './clock.js'

/**
 * The infrastructure, built once by app.ts and passed down; there are no globals. The services built on it
 * are in the one services bag (services/index.ts).
 */
export interface AppContext {
  readonly config: Config
  readonly log: Logger
  readonly bus: EventBus
  readonly clock: Clock
  readonly db: Database
  readonly broker: Broker
  /** When this process started (clock time): uptime for /health and the gateway status. */
  readonly startedAt: number
}

/** A long-lived part of the gateway. Constructors only assign fields; work starts in start(). */
export interface Service {
  readonly name: string
  start: () => Promise<void>
  stop: () => Promise<void>
}

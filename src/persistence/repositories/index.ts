import type { Database } from '../database.js'
import { CommandsRepository } from './commands.js'
import { DevicesRepository } from './devices.js'
import { EventsRepository } from './events.js'
import { UsersRepository } from './users.js'

/** Every repository, built once on the open database and exposed as `ctx.repos`. */
export interface Repositories {
  readonly devices: DevicesRepository
  readonly users: UsersRepository
  readonly events: EventsRepository
  /** Reads for the API; the command service writes through its own instance. */
  readonly commands: CommandsRepository
}

export function createRepositories (db: Database): Repositories {
  return {
    devices: new DevicesRepository(db.dataSource),
    users: new UsersRepository(db.dataSource),
    events: new EventsRepository(db.dataSource),
    commands: new CommandsRepository(db.dataSource)
  }
}

import type { AppContext, Service } from '../context.js'
import { CommandService } from './commands.js'
import { EmergencyLatch } from './emergency-latch.js'
import { EmergencyService } from './emergency.js'
import { ControlJournal } from './journal.js'
import { MacroService } from './macros.js'
import { RelayService } from './relays.js'

/** The control services; the HTTP API calls the same ones (relays.setChannel, macros.run, emergency.trigger). */
export interface Control {
  commands: CommandService
  relays: RelayService
  macros: MacroService
  emergency: EmergencyService
  /** The black-box journal of control actions. */
  journal: ControlJournal
  /** In start order. */
  services: Service[]
}

export function createControl (ctx: AppContext): Control {
  const latch = new EmergencyLatch()
  const journal = new ControlJournal(ctx.repos.journal, ctx.clock, ctx.log)
  const commands = new CommandService(ctx)
  const relays = new RelayService(ctx, commands, latch, journal)
  const macros = new MacroService(ctx, relays, commands, latch, journal)
  const emergency = new EmergencyService(ctx, latch, relays, macros, journal)
  // The emergency service first: the lockout holds before anything can ask for a relay.
  return { commands, relays, macros, emergency, journal, services: [emergency, commands, relays, macros] }
}

import type { Logger } from '../log.js'
import type { CommandRow, CommandsRepository } from '../persistence/repositories/commands.js'
import type { Tracked } from './command-types.js'

/**
 * The writes of the commands' rows after their insert: chained per command, so an update never overtakes the
 * insert, and batched across commands, so a burst of acknowledgements costs one transaction.
 */
export class CommandWrites {
  private pending: Array<{ commandId: string, patch: Partial<CommandRow> }> = []
  private nextFlush?: Promise<void>

  constructor (private readonly repo: CommandsRepository, private readonly log: Logger) {}

  /** Queues `patch` for the command's row, after its earlier writes; a command not yet inserted is not written. */
  persist (t: Tracked, patch: Partial<CommandRow>): void {
    if (!t.inserted) return
    t.write = t.write.then(() => this.batched(t.row.commandId, patch)).catch(err => {
      this.log.error({ err, commandId: t.row.commandId }, 'command not stored')
    })
  }

  /**
   * Updates queued in the same turn of the event loop go to the store in one transaction: better-sqlite3 is
   * synchronous, so 200 acknowledgements written one by one (200 fsyncs) would stall the broker for everyone.
   */
  private async batched (commandId: string, patch: Partial<CommandRow>): Promise<void> {
    this.pending.push({ commandId, patch })
    this.nextFlush ??= new Promise<void>(resolve => setImmediate(resolve)).then(async () => {
      const batch = this.pending
      this.pending = []
      this.nextFlush = undefined
      await this.repo.updateMany(batch)
    })
    return await this.nextFlush
  }
}

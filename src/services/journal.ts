import type { JournalEntry } from '../../entities/index.js'
import type { Clock } from '../clock.js'
import { isGatewayError } from '../errors.js'
import type { Actor } from '../auth/actor.js'
import type { Logger } from '../log.js'
import type { JournalRepository } from '../persistence/repositories/journal.js'

/**
 * What was asked: `relay.on`, `macro.run`, … on a target (`<uuid>/<channel>`, `macro:<id>`, `device:<uuid>`,
 * `gateway`).
 */
export interface JournalAction {
  action: string
  target: string
  params?: Record<string, unknown>
  /** The command it causes, to join with the command's final status. */
  commandId?: string
}

/** A journal row as the API and the CLI show it: the entry, its time as ISO 8601 (`at`) in place of `ts`. */
export type JournalView = { id: number, at: string } & Omit<JournalEntry, 'id' | 'ts'>

export function journalView ({ id, ts, ...entry }: JournalEntry): JournalView {
  return { id, at: new Date(ts).toISOString(), ...entry }
}

function who (actor: Actor): { actor: string, actorKind: string, role: string | null } {
  switch (actor.kind) {
    case 'user': return { actor: actor.username, actorKind: 'user', role: actor.role }
    case 'device': return { actor: actor.uuid, actorKind: 'device', role: null }
    case 'gateway': return { actor: 'gateway', actorKind: 'gateway', role: null }
    default: return { actor: actor.clientId, actorKind: actor.kind, role: null }
  }
}

/**
 * The black-box journal (issue 14): every control action with who asked (identity, role, transport, address), what,
 * when (the injected clock) and whether it was accepted. An accepted action is written, and committed, before the
 * command it causes is handed to the broker: if that write fails the action fails, so a command that reached a
 * board always has its journal row, even across a kill -9. A refusal is written after the fact, best effort.
 */
export class ControlJournal {
  private readonly log: Logger

  constructor (private readonly repo: JournalRepository, private readonly clock: Clock, log: Logger) {
    this.log = log.child({ module: 'journal' })
  }

  async accepted (actor: Actor, what: JournalAction): Promise<void> {
    await this.write(actor, what, null)
  }

  /** Records a refusal (`err`'s error code); never throws. */
  async refused (actor: Actor, what: JournalAction, err: unknown): Promise<void> {
    const code = isGatewayError(err) ? err.code : 'GW_ERR_HTTP_INTERNAL'
    try {
      await this.write(actor, what, code)
    } catch (e) {
      this.log.error({ err: e, action: what.action, target: what.target }, 'refusal not journaled')
    }
  }

  private async write (actor: Actor, what: JournalAction, errorCode: string | null): Promise<void> {
    await this.repo.insert({
      ts: this.clock.now(),
      ...who(actor),
      transport: actor.via?.transport ?? (actor.kind === 'gateway' ? 'gateway-internal' : 'mqtt'),
      address: actor.via?.address ?? null,
      action: what.action,
      target: what.target,
      params: what.params ?? null,
      outcome: errorCode === null ? 'accepted' : 'refused',
      errorCode,
      commandId: what.commandId ?? null
    })
  }
}

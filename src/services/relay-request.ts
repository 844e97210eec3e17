import { randomUUID } from 'node:crypto'
import type { CommandSource } from '../../entities/index.js'
import type { Actor } from '../auth/actor.js'
import type { RelayAction } from '../protocol/index.js'
import type { CommandOutcome } from './commands.js'
import type { ControlJournal } from './journal.js'

export interface RelayRequest {
  deviceUuid: string
  channel: number
  action: RelayAction
  /** Pulse length, or hold length for a momentary channel. */
  durationMs?: number
  user?: string
  source: CommandSource
  /** The requesting MQTT client: a momentary hold is released when it disconnects. */
  clientId?: string
  commandId?: string
  /**
   * A mutex group beyond the channel's own `mutex_group`: a screen item's group (seed flow 7). Its channels are
   * turned off (acknowledged) first by the same rule, and requests naming the same group run one at a time.
   */
  exclusive?: { group: string, channelIds: number[] }
  /** Who asked, through what: the request is journaled (services/journal.ts). Unset for the gateway's own steps. */
  actor?: Actor
  /** Set by `journaled`: writes the accepted journal row; called right before the command is sent. */
  journal?: () => Promise<void>
  /** The command id was generated here (see CommandRequest.fresh). */
  freshId?: boolean
}

export interface RelayResult {
  commandId: string
  action: 'on' | 'off' | 'pulse'
  outcome: Promise<CommandOutcome>
  /** Channels of the mutex group turned off first. */
  turnedOff: number[]
  /** For a hold: how long until the gateway releases it. */
  holdMs?: number
}

/**
 * With an actor, the request is journaled: its accepted row written (and committed) right before its command is
 * sent, with the command id (generated here when the requester gave none); a refusal with its error code.
 */
export async function journaled (
  journal: ControlJournal,
  req: RelayRequest,
  kind: string,
  run: (req: RelayRequest) => Promise<RelayResult>
): Promise<RelayResult> {
  const actor = req.actor
  if (actor === undefined) return await run(req)
  const commandId = req.commandId ?? randomUUID()
  const params: Record<string, unknown> = {}
  if (req.durationMs !== undefined) params.duration_ms = req.durationMs
  if (req.exclusive !== undefined) params.exclusive_group = req.exclusive.group
  const what = {
    action: `relay.${kind}`,
    target: `${req.deviceUuid}/${req.channel}`,
    params: Object.keys(params).length === 0 ? undefined : params,
    commandId
  }
  let written = false
  const accept = async (): Promise<void> => {
    if (written) return
    written = true
    await journal.accepted(actor, what)
  }
  try {
    return await run({ ...req, commandId, freshId: req.commandId === undefined, journal: accept })
  } catch (err) {
    if (!written) await journal.refused(actor, what, err)
    throw err
  }
}

import type { Logger } from '../log.js'
import type { ChannelRow, RelaysRepository } from '../persistence/repositories/relays.js'
import type { CommandService } from './commands.js'
import type { Services } from './index.js'
import type { RelayResult } from './relay-request.js'

/** What the relay service's start-up and reconnect steps use of it. */
export interface RecoveryDeps {
  ctx: Pick<Services, 'clock' | 'events'>
  repo: RelaysRepository
  commands: CommandService
  log: Logger
  /** The gateway's own 'off' for a channel. */
  systemOff: (ch: ChannelRow) => Promise<RelayResult>
}

/**
 * The first report of a board after it (re)connected against what the gateway last commanded (issue 14). A
 * channel with a command still open is left to that command. Every mismatch is a `relay_state_mismatch` event,
 * and the safe side wins: on at the board but commanded off is turned off; commanded on but off at the board is
 * recorded as off (the gateway never turns a relay on by itself).
 */
export async function reconcile (d: RecoveryDeps, ch: ChannelRow): Promise<void> {
  if (ch.desiredState === null || ch.currentState === null || ch.desiredState === ch.currentState) return
  if (d.commands.hasOpenRelay(ch.deviceUuid, ch.channelNumber)) return
  const resolution = ch.currentState ? 'turned off' : 'desired state set to off'
  await d.ctx.events.log({
    level: 'warning',
    type: 'relay_state_mismatch',
    source: 'gateway',
    target: `${ch.deviceUuid}/${ch.channelNumber}`,
    payload: { desired: ch.desiredState, current: ch.currentState, on: 'reconnect', resolution }
  })
  try {
    if (ch.currentState) await d.systemOff(ch)
    else await d.repo.setDesired(ch.id, false, d.ctx.clock.now())
  } catch (err) {
    d.log.error({ err, deviceUuid: ch.deviceUuid, channel: ch.channelNumber }, 'reconcile failed')
  }
}

/**
 * A momentary hold lives in memory: one the previous run did not release (stopped or killed mid-hold) is released
 * now. Its open 'on' command is closed (expired) so it never reaches the board, and an 'off' command waits for the
 * board like any other (issue 14: the safe state of a hold after a restart is off).
 */
export async function releaseInterruptedHolds (d: RecoveryDeps): Promise<void> {
  for (const ch of await d.repo.heldMomentary()) {
    const why = 'hold interrupted by a gateway restart'
    const superseded = await d.commands.supersede(ch.deviceUuid, ch.channelNumber, why)
    try {
      const off = await d.systemOff(ch)
      await d.ctx.events.log({
        level: 'warning',
        type: 'relay_hold_interrupted',
        source: 'gateway',
        action: 'off',
        target: `${ch.deviceUuid}/${ch.channelNumber}`,
        payload: { superseded, command_id: off.commandId }
      })
    } catch (err) {
      d.log.error({ err, deviceUuid: ch.deviceUuid, channel: ch.channelNumber }, 'interrupted hold not released')
    }
  }
}

import type { InboundMessage } from '../../broker/pipeline.js'
import type { Services } from '../../services/index.js'
import { Throttle } from '../../services/throttle.js'
import { fromItsDevice } from '../sender.js'

/** The code a board reports a tripped dead-man with (README "Gateway heartbeat"). */
export const DEADMAN_TRIPPED = 'deadman_tripped'

/** One `device_error` event per device per this interval; the reports held back are counted in the next one. */
export const DEVICE_ERROR_INTERVAL_MS = 10_000

/**
 * `autocore/devices/{uuid}/error` `{code, message, ...}` (SPEC §3): an event `device_error`, level error, with the
 * device's report as its payload, so it reaches the event log, the panel's events view (`autocore/events/#`) and
 * the webhooks. A device stuck in a loop cannot flood them: at most one per device per DEVICE_ERROR_INTERVAL_MS,
 * the next one saying how many were held back (`suppressed`). A board's dead-man report (`code: "deadman_tripped"`,
 * with the channels it turned off and how long it went without a heartbeat) is its own event type,
 * `deadman_tripped`, level warning, never held back: what an owner reads after the gateway was gone.
 */
export function deviceErrorHandler (ctx: Services): (msg: InboundMessage<'deviceError'>) => Promise<void> {
  const throttle = new Throttle(ctx.clock, DEVICE_ERROR_INTERVAL_MS)
  return async msg => {
    if (!fromItsDevice(msg)) return
    const uuid = msg.params.uuid
    const report = { source: `device:${uuid}`, target: uuid }
    if (msg.body.code === DEADMAN_TRIPPED) {
      await ctx.events.log({ ...report, level: 'warning', type: DEADMAN_TRIPPED, payload: msg.body })
      return
    }
    const suppressed = throttle.take(uuid)
    if (suppressed === undefined) return
    const payload = suppressed === 0 ? msg.body : { ...msg.body, suppressed }
    await ctx.events.log({ ...report, level: 'error', type: 'device_error', payload })
  }
}

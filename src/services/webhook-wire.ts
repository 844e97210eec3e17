import { createHmac } from 'node:crypto'
import { version } from '../version.js'
import type { EventMessage } from './events.js'

/** What a webhook receives: the event as published on `autocore/events/{type}`, and the delivery's id to dedupe by. */
export interface DeliveryBody {
  deliveryId: number
  event: EventMessage
}

/** The exact JSON that is stored in the outbox, signed and sent on every attempt of the delivery. */
export function deliveryBody (deliveryId: number, event: EventMessage): string {
  return JSON.stringify({ deliveryId, event } satisfies DeliveryBody)
}

/** Hex HMAC-SHA256 of `<t>.<body>` with the webhook's secret; t in unix seconds. */
export function signature (secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')
}

/**
  * The request headers of one attempt. `X-AutoCore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
  * "<t>.<body>")>`
 * is computed afresh per attempt (a new t), over the unchanged body.
 */
export function deliveryHeaders (
  d: { id: number, eventType: string, body: string },
  secret: string,
  nowMs: number
): Record<string, string> {
  const t = Math.floor(nowMs / 1000)
  return {
    'content-type': 'application/json',
    'user-agent': `AutoCore-Gateway/${version}`,
    'x-autocore-delivery': String(d.id),
    'x-autocore-event': d.eventType,
    'x-autocore-signature': `t=${t},v1=${signature(secret, t, d.body)}`
  }
}

/** The event type inside a stored body (for the header and the API); '' for a body that is not ours. */
export function eventTypeOf (body: string): string {
  try {
    const type = (JSON.parse(body) as Partial<DeliveryBody>).event?.type
    return typeof type === 'string' ? type : ''
  } catch {
    return ''
  }
}

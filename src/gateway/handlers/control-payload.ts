import type { InboundMessage } from '../router.js'

/**
 * Parses a control payload as a JSON object, or undefined. Schema validation proper (ajv, SPEC §3) happens in the
 * publish pipeline; handlers still check the fields they use.
 */
export function jsonObject (msg: InboundMessage): Record<string, unknown> | undefined {
  try {
    const body = JSON.parse(msg.payload.toString()) as unknown
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

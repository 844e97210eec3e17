import { GatewayError } from '../errors.js'
import type { Schema } from './route-table.js'

// A point in time in a query: epoch milliseconds (`1767225600000`) or ISO 8601 with a zone
// (`2026-01-01T00:00:00.000Z`, `2026-01-01T01:00:00+01:00`) or a UTC date (`2026-01-01`).
const PATTERN = '^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?)$'

/** The schema of a time query parameter (a string, parsed by `parseTime`). */
export function timeQuery (description: string): Schema {
  return { type: 'string', pattern: PATTERN, description: `${description}: epoch milliseconds or ISO 8601 with a zone` }
}

/** Epoch milliseconds of a value `timeQuery` admitted; 400 naming the parameter for an impossible date (month 13). */
export function parseTime (field: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(ms)) {
    throw new GatewayError('GW_ERR_HTTP_VALIDATION', `invalid query: ${field} is not a valid time`, [
      { in: 'query', field, message: 'is not a valid time' }
    ])
  }
  return ms
}

export function iso (ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

import { GatewayError } from '../errors.js'
import type { Schema } from './route-table.js'

/** Building blocks of the route schemas, shared by resources. */

export const idSchema = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const

/** A path-parameter object of integer ids: `idParams('id')` for `/things/:id`. */
export function idParams (...names: string[]): Schema {
  return { type: 'object', required: names, properties: Object.fromEntries(names.map(n => [n, idSchema])) }
}

export const nullable = (s: Record<string, unknown>): Schema => ({ ...s, type: [s.type as string, 'null'] })

/** An object schema whose properties are all required (answers list every field, null when unset). */
export function record (properties: Record<string, Schema>): Schema {
  return { type: 'object', required: Object.keys(properties), properties }
}

/** A record that admits no other property: the shape of an answer that must not leak a column. */
export function closedRecord (properties: Record<string, Schema>): Schema {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties }
}

/** A PATCH body: the create body's properties, none required, at least one given. */
export function patchOf (create: Schema): Schema {
  const { required: _required, ...rest } = create
  return { ...rest, minProperties: 1 }
}

/** A body that passed its schema but fails a rule across fields: the same 400 as the schema's, naming the field. */
export function fieldError (field: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_HTTP_VALIDATION', `invalid body: ${field} ${message}`, [
    { in: 'body', field, message }
  ])
}

/** Epoch ms → ISO string (null stays null). */
export function iso (ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString()
}

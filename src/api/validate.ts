import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { GatewayError, type ErrorCode } from '../errors.js'
import type { Schema } from './route-table.js'

export type Part = 'params' | 'query' | 'body'

/** Query strings and path params arrive as strings: coerced to the schema's types, defaults filled in. */
const coercing = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, coerceTypes: true, useDefaults: true })
/** JSON bodies are typed already: no coercion (a "1" is not a number), defaults filled in. */
const exact = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: true })

/** One failing field: where, which (a JSON pointer into the part, or the parameter name), and why. */
export interface FieldError { in: Part, field: string, message: string }

function fieldOf (part: Part, e: ErrorObject): string {
  const p = e.params as { missingProperty?: string, additionalProperty?: string }
  const extra = p.missingProperty ?? p.additionalProperty
  const pointer = extra === undefined ? e.instancePath : `${e.instancePath}/${extra}`
  // A query or path parameter is named plainly; a body field by its JSON pointer.
  return part === 'body' ? (pointer === '' ? '/' : pointer) : pointer.replace(/^\//, '')
}

function messageOf (e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'is not allowed here'
  if (e.keyword === 'required') return 'is required'
  return e.message ?? 'is invalid'
}

/**
 * Compiles `schema` once, on the route's first request (compiling every route's schemas at start would cost the Pi
 * a second or more); the result validates a part of a request in place or throws 400 naming every failing field.
 */
export function partValidator (
  part: Part,
  schema: Schema,
  code: ErrorCode = 'GW_ERR_HTTP_VALIDATION'
): (value: unknown) => unknown {
  let validate: ValidateFunction | undefined
  return value => {
    validate ??= (part === 'body' ? exact : coercing).compile(schema)
    if (validate(value)) return value
    const details: FieldError[] = (validate.errors ?? []).map(e => ({
      in: part,
      field: fieldOf(part, e),
      message: messageOf(e)
    }))
    const what = details.map(d => `${d.field} ${d.message}`).join('; ')
    throw new GatewayError(code, `invalid ${part === 'params' ? 'path' : part}: ${what}`, details)
  }
}

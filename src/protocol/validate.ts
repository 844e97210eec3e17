import { Ajv, type ValidateFunction } from 'ajv'
import { families, type TopicFamily } from './families.js'

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true })
// Compiled once at import, from each family's schema (protocol/families.ts).
const validators = new Map<TopicFamily, ValidateFunction>()
for (const [family, def] of Object.entries(families) as Array<[TopicFamily, { schema?: object }]>) {
  if (def.schema !== undefined) validators.set(family, ajv.compile(def.schema))
}

/** checkPayload's answer for a payload that does not parse (the payload guard counts these apart). */
export const NOT_JSON = 'payload is not valid JSON'

/**
 * undefined when the payload is valid for its family, else why not (one short line). A valid payload's JSON value
 * is kept in `into.body`, so the steps after the check do not parse it again.
 */
export function checkPayload (family: TopicFamily, payload: Buffer, into?: { body: unknown }): string | undefined {
  const validate = validators.get(family)
  if (validate === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch {
    return NOT_JSON
  }
  if (validate(value)) {
    if (into !== undefined) into.body = value
    return undefined
  }
  const e = validate.errors?.[0]
  const where = e?.instancePath === '' ? '' : `${e?.instancePath ?? ''} `
  return `payload ${where}${e?.message ?? 'is invalid'}`.replace(/\s+/g, ' ')
}

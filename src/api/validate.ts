import { Ajv, type JSONSchemaType } from 'ajv'
import { GatewayError } from '../errors.js'

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })

/** Compiles a request-body schema once; the returned function gives the typed body or throws 400 GW_ERR_HTTP_VALIDATION. */
export function bodyValidator<T> (schema: JSONSchemaType<T>): (body: unknown) => T {
  const validate = ajv.compile(schema)
  return body => {
    if (validate(body)) return body
    const details = (validate.errors ?? []).map(e => ({ path: e.instancePath === '' ? '/' : e.instancePath, message: e.message ?? 'invalid' }))
    throw new GatewayError('GW_ERR_HTTP_VALIDATION', undefined, details)
  }
}

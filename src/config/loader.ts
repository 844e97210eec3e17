import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import schema from './schema.json' with { type: 'json' }
import { defaultConfigFile } from '../paths.js'
import { GatewayError } from '../errors.js'
import type { Config } from './types.js'

export type { Config } from './types.js'

interface SchemaNode {
  type?: string
  properties?: Record<string, SchemaNode>
  default?: unknown
  description?: string
}

export interface LoadOptions {
  /** An operator's config file (`--config`), merged over config/default.json. */
  file?: string
  /** The environment to read AUTOCORE_* overrides from; main passes process.env. */
  env?: Record<string, string | undefined>
  /** Values merged last (tests use it for ports 0 and temp dirs). */
  overrides?: DeepPartial<Config>
  /** The shipped defaults file; tests point it elsewhere. */
  defaultsFile?: string
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] }

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true })
const validate = ajv.compile(schema)

/** `allowAnonymous` → `ALLOW_ANONYMOUS`. */
function envWord (key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

export interface EnvKey { path: string[], env: string, type: string, description: string }

/**
 * Every leaf key of the schema with its environment variable name: the one derivation both the loader and the docs
 * use.
 */
export function envKeys (node: SchemaNode = schema as SchemaNode, path: string[] = []): EnvKey[] {
  if (node.type !== 'object' || node.properties === undefined) {
    return [
      {
        path,
        env: 'AUTOCORE_' + path.map(envWord).join('_'),
        type: node.type ?? 'string',
        description: node.description ?? ''
      }
    ]
  }
  return Object.entries(node.properties).flatMap(([k, child]) => envKeys(child, [...path, k]))
}

function coerce (raw: string, type: string): unknown {
  if (type === 'integer' || type === 'number') {
    return raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw
  }
  if (type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true
    if (/^(false|0|no|off)$/i.test(raw)) return false
    return raw
  }
  if (type === 'array' || type === 'object') {
    try { return JSON.parse(raw) } catch { return raw }
  }
  return raw
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function merge (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v
  }
  return out
}

function setPath (target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1]] = value
}

function readJson (file: string, what: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new GatewayError(
      'GW_ERR_CONFIG_FILE',
      `${what} ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new GatewayError('GW_ERR_CONFIG_FILE', `${what} ${file}: not valid JSON (${(err as Error).message})`)
  }
  if (!isPlainObject(value)) throw new GatewayError('GW_ERR_CONFIG_FILE', `${what} ${file}: must hold a JSON object`)
  return value
}

function describe (e: ErrorObject): string {
  const path = e.instancePath.split('/').slice(1).join('.')
  if (e.keyword === 'additionalProperties') {
    const key = [path, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.')
    return `${key}: unknown key`
  }
  if (e.keyword === 'enum') {
    return `${path}: must be one ` +
      `of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(v => JSON.stringify(v)).join(', ')}`
  }
  return `${path || '(root)'}: ${e.message ?? 'is invalid'}`
}

/**
 * Builds the effective configuration: config/default.json, then the operator's file, then AUTOCORE_* variables,
 * then overrides; validated once against the schema (every error reported, one line each) and frozen.
 */
export function loadConfig (opts: LoadOptions = {}): Config {
  let merged = readJson(opts.defaultsFile ?? defaultConfigFile, 'default config')
  if (opts.file !== undefined) merged = merge(merged, readJson(opts.file, 'config file'))
  const env = opts.env ?? {}
  for (const key of envKeys()) {
    const raw = env[key.env]
    if (raw !== undefined) setPath(merged, key.path, coerce(raw, key.type))
  }
  if (opts.overrides !== undefined) merged = merge(merged, opts.overrides as Record<string, unknown>)

  if (!validate(merged)) {
    const lines = [...new Set((validate.errors ?? []).map(describe))]
    throw new GatewayError('GW_ERR_CONFIG_INVALID', lines.join('\n'), { errors: lines })
  }
  const config = merged as unknown as Config
  return deepFreeze({ ...config, dataDir: resolve(config.dataDir) })
}

/** The configuration with every default, as config/default.json ships it. */
export function schemaDefaults (): Record<string, unknown> {
  const value: Record<string, unknown> = {}
  validate(value)
  return value
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

const SECRET_KEY = /password|secret|token|url/i

/** A copy for display: secrets (and URLs, which may carry credentials) replaced by '[redacted]' when set. */
export function redactConfig (config: unknown): unknown {
  if (Array.isArray(config)) return config.map(redactConfig)
  if (!isPlainObject(config)) return config
  return Object.fromEntries(Object.entries(config).map(([k, v]) =>
    [k, SECRET_KEY.test(k) && typeof v === 'string' && v !== '' ? '[redacted]' : redactConfig(v)]))
}

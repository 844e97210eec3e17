import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config/types.js'

const FILE = 'health-token'

/** The health identity's token: from config, else from <dataDir>/health-token, created (mode 0600) on first start. */
export function ensureHealthToken (config: Pick<Config, 'dataDir' | 'health'>): string {
  if (config.health.token !== '') return config.health.token
  const existing = readHealthToken(config)
  if (existing !== undefined) return existing
  mkdirSync(config.dataDir, { recursive: true })
  const token = randomBytes(24).toString('base64url')
  // 'wx' fails if another process created it meanwhile; then that one's token is the token.
  try {
    writeFileSync(join(config.dataDir, FILE), token + '\n', { mode: 0o600, flag: 'wx' })
  } catch {
    return readHealthToken(config) ?? token
  }
  return token
}

/** The token the CLI presents: config first, then the file the gateway wrote; undefined when neither exists. */
export function readHealthToken (config: Pick<Config, 'dataDir' | 'health'>): string | undefined {
  if (config.health.token !== '') return config.health.token
  try {
    return readFileSync(join(config.dataDir, FILE), 'utf8').trim()
  } catch {
    return undefined
  }
}

import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SignJWT, jwtVerify, errors } from 'jose'
import type { UserRole } from './principal.js'

const FILE = 'jwt-secret'
const ISSUER = 'autocore-gateway'

/** The HS256 key: <dataDir>/jwt-secret, created (mode 0600) on first start. */
export function ensureJwtSecret (dataDir: string): Uint8Array {
  const file = join(dataDir, FILE)
  const read = (): Uint8Array | undefined => {
    try {
      const text = readFileSync(file, 'utf8').trim()
      return text === '' ? undefined : Buffer.from(text, 'base64url')
    } catch {
      return undefined
    }
  }
  const existing = read()
  if (existing !== undefined) return existing
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32)
  try {
    // 'wx': if another process created it meanwhile, that one's secret is the secret.
    writeFileSync(file, secret.toString('base64url') + '\n', { mode: 0o600, flag: 'wx' })
  } catch {
    return read() ?? secret
  }
  return secret
}

export interface IssuedToken { token: string, expiresAt: number }

/**
 * A login token for a user: sub = username, role as issued (the role checked at use is the stored one), `ver` = the
 * user's token version (a password change, a new role or a disable bumps it: older tokens are revoked).
 */
export async function issueToken (
  key: Uint8Array,
  user: { username: string, role: UserRole, tokenVersion: number },
  nowMs: number,
  expiresInS: number
): Promise<IssuedToken> {
  const iat = Math.floor(nowMs / 1000)
  const exp = iat + expiresInS
  const token = await new SignJWT({ role: user.role, ver: user.tokenVersion })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user.username)
    .setIssuer(ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key)
  return { token, expiresAt: exp * 1000 }
}

/** A valid token: whose it is, its token version (0 when it has none) and when it expires (epoch ms). */
export type TokenCheck =
  { ok: true, username: string, version: number, expiresAt: number } | { ok: false, reason: string }

/**
 * Verifies signature, issuer and expiry (against the injected time); a token without `exp` is refused, as one
 * would never stop working. The caller compares `version` with the user's stored token version (tokenRevoked).
 */
export async function verifyToken (key: Uint8Array, token: string, nowMs: number): Promise<TokenCheck> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp']
    })
    if (typeof payload.sub !== 'string') return { ok: false, reason: 'token without subject' }
    if (typeof payload.exp !== 'number') return { ok: false, reason: 'token without expiry' }
    const version = payload.ver === undefined ? 0 : payload.ver
    if (typeof version !== 'number') return { ok: false, reason: 'invalid token' }
    return { ok: true, username: payload.sub, version, expiresAt: payload.exp * 1000 }
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, reason: 'token expired' }
    if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'exp') {
      return { ok: false, reason: 'token without expiry' }
    }
    return { ok: false, reason: 'invalid token' }
  }
}

/** A token issued before the user's last password change, role change or disable. */
export function tokenRevoked (check: { version: number }, user: { tokenVersion: number }): boolean {
  return check.version !== user.tokenVersion
}

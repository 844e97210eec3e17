import { timingSafeEqual } from 'node:crypto'
import type { AuthDecision } from './principal.js'

export interface Credentials {
  clientId: string
  username?: string
  password?: Buffer
}

export interface AuthenticatePolicy {
  allowAnonymous: boolean
  healthUsername: string
  healthToken: string
}

function sameSecret (given: Buffer | undefined, expected: string): boolean {
  if (given === undefined || expected === '') return false
  const want = Buffer.from(expected)
  return given.length === want.length && timingSafeEqual(given, want)
}

/**
 * The CONNECT decision, a pure function of the credentials and the policy. The health identity is always
 * recognised; with allowAnonymous everyone else gets the anonymous principal; otherwise the connection is
 * refused (CONNACK 4 when credentials were offered, 5 when none were).
 */
export function authenticate (creds: Credentials, policy: AuthenticatePolicy): AuthDecision {
  if (creds.username === policy.healthUsername) {
    if (sameSecret(creds.password, policy.healthToken)) {
      return { ok: true, principal: { kind: 'health', clientId: creds.clientId, username: creds.username } }
    }
    return { ok: false, returnCode: 4, reason: 'bad health token' }
  }
  if (policy.allowAnonymous) return { ok: true, principal: { kind: 'anonymous', clientId: creds.clientId } }
  if (creds.username === undefined) return { ok: false, returnCode: 5, reason: 'anonymous connections are not allowed' }
  return { ok: false, returnCode: 4, reason: 'unknown credentials' }
}

import { timingSafeEqual } from 'node:crypto'
import type { Clock } from '../clock.js'
import { DEVICE_ID } from '../protocol/index.js'
import { addressKey, userKey as userKeyOf, type FailureLimiter } from './failure-limiter.js'
import { tokenRevoked, verifyToken } from './jwt.js'
import { hashSecret, verifySecret } from './passwords.js'
import { KeyedGate } from './keyed-gate.js'
import { isDisplay, type AuthDecision, type UserRole } from './principal.js'

export interface Credentials {
  clientId: string
  username?: string
  password?: Buffer
  /** The peer's address, for counting failed attempts. */
  remoteAddress?: string
  /**
   * A client certificate the TLS layer verified against the gateway CA (mutual TLS): the device UUID it names and
   * its serial number (hex, upper case), which must be the device's current one (`cert_serial`).
   */
  certificate?: { uuid: string, serial: string }
}

export interface AuthenticatePolicy {
  allowAnonymous: boolean
  healthUsername: string
  healthToken: string
  /** devices.autoRegister: an unknown device id may connect as `pending` and announce itself. */
  autoRegister: boolean
}

/** What authentication needs to know about a device or a user (the repositories provide it). */
export interface DeviceRecord {
  uuid: string
  type: string
  enabled: boolean
  status: string
  secretHash: string | null
  capabilities: string[] | null
  /** The serial of the one client certificate it may connect with (undefined or null: none). */
  certSerial?: string | null
}
export interface UserRecord { username: string, role: UserRole, enabled: boolean, tokenVersion: number }

export interface AuthenticatorDeps {
  policy: AuthenticatePolicy
  findDevice: (uuid: string) => Promise<DeviceRecord | undefined>
  findUser: (username: string) => Promise<UserRecord | undefined>
  jwtKey: Uint8Array
  limiter: FailureLimiter
  clock: Pick<Clock, 'now'>
  /** Credential checks one remote address may have running at once; the rest queue (default 1). */
  maxConcurrentPerAddress?: number
}

/** A refusal, with `throttled` when it was refused unchecked because of earlier failures. */
export type AuthOutcome = AuthDecision & { throttled?: boolean, penaltyStarted?: boolean }

const bad = (reason: string): AuthOutcome => ({ ok: false, returnCode: 4, reason })

function sameSecret (given: Buffer | undefined, expected: string): boolean {
  if (given === undefined || expected === '') return false
  const want = Buffer.from(expected)
  return given.length === want.length && timingSafeEqual(given, want)
}

/**
 * The CONNECT decision (SPEC §2): a device connects with client id = username = its UUID and its secret; a
 * user with its username and a login JWT; the health identity with its token. CONNACK 4 for bad credentials
 * (unknown id, wrong secret, bad or expired token), 5 for not authorized (disabled, no credentials, throttled).
 * Failures are counted per remote address and username: an address in its penalty window is refused without
 * hashing anything; a username's penalty applies only to addresses that failed too, so an attacker guessing a
 * device's secret from elsewhere does not lock that device out.
 */
export class Authenticator {
  private readonly gate: KeyedGate
  constructor (private readonly deps: AuthenticatorDeps) {
    this.gate = new KeyedGate(deps.maxConcurrentPerAddress ?? 1)
  }

  async authenticate (creds: Credentials): Promise<AuthOutcome> {
    const { policy } = this.deps
    const cert = creds.certificate
    // Mutual TLS: the certificate stands for the device's secret. A username, if sent, must be the same device.
    if (cert !== undefined && [undefined, '', cert.uuid].includes(creds.username)) {
      const r = await this.guard(
        creds.remoteAddress,
        cert.uuid,
        async () => await this.checkCertificate(creds, cert),
        o => !o.ok && o.returnCode === 4
      )
      if (r.throttled) return { ok: false, returnCode: 5, reason: r.reason, throttled: true }
      return r.penaltyStarted ? { ...r.result, penaltyStarted: true } : r.result
    }
    if (creds.username === undefined || creds.username === '') {
      return policy.allowAnonymous
        ? { ok: true, principal: { kind: 'anonymous', clientId: creds.clientId } }
        : { ok: false, returnCode: 5, reason: 'anonymous connections are not allowed' }
    }
    const r = await this.guard(
      creds.remoteAddress,
      creds.username,
      async () => await this.check(creds, creds.username as string),
      o => !o.ok && o.returnCode === 4
    )
    if (r.throttled) return { ok: false, returnCode: 5, reason: r.reason, throttled: true }
    return r.penaltyStarted ? { ...r.result, penaltyStarted: true } : r.result
  }

  /**
   * Runs one credential check (MQTT CONNECT or HTTP login) under the failure limiter and the per-address gate:
   * refused unchecked during a penalty, at most maxConcurrentPerAddress checks per address at once, and the
   * outcome counted (a failure per `failed`, a success clears the address and the username).
   */
  async guard<T>(
    remoteAddress: string | undefined,
    username: string,
    check: () => Promise<T>,
    failed: (result: T) => boolean
  ): Promise<{ throttled: true, reason: string } | { throttled: false, result: T, penaltyStarted: boolean }> {
    const { limiter } = this.deps
    const addrKey = addressKey(remoteAddress)
    const userKey = userKeyOf(username)
    const blocked = (): boolean =>
      limiter.blocked(addrKey) || (limiter.blocked(userKey) && limiter.failedRecently(addrKey))
    if (blocked()) return { throttled: true, reason: 'too many failed attempts' }
    // One check at a time per address: a burst of guesses cannot be hashed before its first failures are counted,
    // and holds at most one of the threads every other client's hash needs.
    const release = await this.gate.acquire(addrKey)
    if (release === undefined) return { throttled: true, reason: 'too many concurrent attempts' }
    let result: T
    try {
      // Failures counted while this attempt waited for its slot may have started a penalty.
      if (blocked()) return { throttled: true, reason: 'too many failed attempts' }
      result = await check()
    } finally {
      release()
    }
    if (!failed(result)) {
      limiter.succeed(addrKey)
      limiter.succeed(userKey)
      return { throttled: false, result, penaltyStarted: false }
    }
    const penaltyStarted = limiter.fail(addrKey)
    limiter.fail(userKey)
    return { throttled: false, result, penaltyStarted }
  }

  private async check (creds: Credentials, username: string): Promise<AuthOutcome> {
    const { policy } = this.deps
    if (username === policy.healthUsername) {
      return sameSecret(creds.password, policy.healthToken)
        ? { ok: true, principal: { kind: 'health', clientId: creds.clientId, username } }
        : { ok: false, returnCode: 4, reason: 'bad health token' }
    }
    if (creds.clientId === username) {
      const device = await this.deps.findDevice(username)
      if (device !== undefined) return await this.checkDevice(creds, device)
    }
    const user = await this.deps.findUser(username)
    if (user !== undefined) return await this.checkUser(creds, user)
    if (
      creds.clientId === username &&
      policy.autoRegister &&
      DEVICE_ID.test(username) &&
      creds.password !== undefined &&
      creds.password.length > 0
    ) {
      const secretHash = await hashSecret(creds.password.toString())
      return {
        ok: true,
        principal: {
          kind: 'device',
          clientId: username,
          uuid: username,
          deviceType: 'unknown',
          capabilities: [],
          display: false,
          pending: { secretHash }
        }
      }
    }
    return bad('unknown identity')
  }

  private async checkDevice (creds: Credentials, device: DeviceRecord): Promise<AuthOutcome> {
    if (device.secretHash === null || creds.password === undefined) return bad('bad device secret')
    if (!await verifySecret(creds.password.toString(), device.secretHash)) return bad('bad device secret')
    if (!device.enabled) return { ok: false, returnCode: 5, reason: 'device disabled' }
    const capabilities = device.capabilities ?? []
    const principal = {
      kind: 'device' as const,
      clientId: device.uuid,
      uuid: device.uuid,
      deviceType: device.type,
      capabilities,
      display: isDisplay(device.type, capabilities),
      secretHash: device.secretHash
    }
    if (device.status === 'pending') {
      return { ok: true, principal: { ...principal, pending: { secretHash: device.secretHash } } }
    }
    return { ok: true, principal }
  }

  /**
   * A device proven by its client certificate: it must still exist and be enabled, under its own client id, and the
   * certificate must be its current one (a replaced or revoked certificate is refused like a wrong secret).
   */
  private async checkCertificate (creds: Credentials, cert: { uuid: string, serial: string }): Promise<AuthOutcome> {
    const { uuid, serial } = cert
    if (creds.clientId !== uuid) {
      return { ok: false, returnCode: 2, reason: 'client id must be the certificate\'s device uuid' }
    }
    const device = await this.deps.findDevice(uuid)
    if (device === undefined) return bad('certificate of an unknown device')
    if (device.certSerial !== serial) return bad('certificate revoked or replaced')
    if (!device.enabled) return { ok: false, returnCode: 5, reason: 'device disabled' }
    const capabilities = device.capabilities ?? []
    // No secretHash: rotating the secret does not end a session that a certificate opened; a new certificate does.
    const principal = {
      kind: 'device' as const,
      clientId: uuid,
      uuid,
      deviceType: device.type,
      capabilities,
      display: isDisplay(device.type, capabilities),
      certSerial: serial
    }
    if (device.status === 'pending') return { ok: false, returnCode: 5, reason: 'device pending approval' }
    return { ok: true, principal }
  }

  private async checkUser (creds: Credentials, user: UserRecord): Promise<AuthOutcome> {
    if (creds.password === undefined) return bad('no token')
    const check = await verifyToken(this.deps.jwtKey, creds.password.toString(), this.deps.clock.now())
    if (!check.ok) return bad(check.reason)
    if (check.username !== user.username) return bad('token for another user')
    if (tokenRevoked(check, user)) return bad('token revoked')
    if (!user.enabled) return { ok: false, returnCode: 5, reason: 'user disabled' }
    const token = { version: check.version, expiresAt: check.expiresAt }
    return {
      ok: true,
      principal: { kind: 'user', clientId: creds.clientId, username: user.username, role: user.role, token }
    }
  }
}

/** The roles a user account may hold (SPEC §2). */
export type UserRole = 'viewer' | 'operator' | 'admin'
export const USER_ROLES: readonly UserRole[] = ['viewer', 'operator', 'admin']

/** Who is on the other end of an MQTT connection, decided once at CONNECT. */
export type Principal =
  | {
    kind: 'device'
    clientId: string
    uuid: string
    deviceType: string
    capabilities: readonly string[]
    /** Display devices may also read other devices' status, telemetry and relay state (SPEC §3). */
    display: boolean
    /** An unprovisioned device accepted by devices.autoRegister: it may only announce until an admin approves it. */
    pending?: { secretHash: string }
    /** The secret hash it connected with: a rotated secret ends the session (services/session-recheck.ts). */
    secretHash?: string
    /** The client certificate's serial it connected with: a replaced or revoked certificate ends the session. */
    certSerial?: string
  }
  | {
    kind: 'user'
    clientId: string
    username: string
    role: UserRole
    /** The login token it connected with: its version (revocation) and expiry (the session ends then). */
    token?: { version: number, expiresAt: number }
  }
  | { kind: 'anonymous', clientId: string }
  | { kind: 'health', clientId: string, username: string }

export type ConnackRefusal = 2 | 4 | 5

export type AuthDecision =
  | { ok: true, principal: Principal }
  | { ok: false, returnCode: ConnackRefusal, reason: string }

export type AclAction = 'publish' | 'subscribe'

export type AclDecision = { allow: true } | { allow: false, reason: string }

/** The role name acl.rules match against: a user's role, or 'device', 'health', 'anonymous'. */
export function roleOf (p: Principal): string {
  return p.kind === 'user' ? p.role : p.kind
}

/** The MQTT username a principal connected with (%u in acl.rules); a device's is its UUID. */
export function usernameOf (p: Principal): string | undefined {
  if (p.kind === 'device') return p.uuid
  if (p.kind === 'user' || p.kind === 'health') return p.username
  return undefined
}

/** A display device: type `display` or the `display` capability. */
export function isDisplay (deviceType: string, capabilities: readonly string[]): boolean {
  return deviceType === 'display' || capabilities.includes('display')
}

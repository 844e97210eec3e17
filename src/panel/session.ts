import type { Role, Session } from './model.js'

const KEY = 'autocore.session'

/** The session survives a reload (a tablet that restarts the browser); "Log out" or expiry removes it. */
export function loadSession (storage: Storage, now: number): Session | null {
  try {
    const s = JSON.parse(storage.getItem(KEY) ?? 'null') as Session | null
    if (s === null || typeof s.token !== 'string' || typeof s.skewMs !== 'number' || s.expiresAtLocal <= now) {
      return null
    }
    return s
  } catch {
    return null
  }
}

export function saveSession (storage: Storage, s: Session | null): void {
  try {
    if (s === null) storage.removeItem(KEY)
    else storage.setItem(KEY, JSON.stringify(s))
  } catch {
    // Private mode or a full quota: the session then lasts as long as the page.
  }
}

export interface LoginAnswer { token: string, expiresAt: string, user: { username: string, role: Role } }

/**
 * The token's expiry on this browser's clock. A vehicle's tablet (and the Pi, without a real-time clock) may be
 * far off the true time, so the server's `expiresAt` is shifted by the difference between its Date header and ours.
 */
export function sessionFrom (answer: LoginAnswer, serverDate: string | null, now: number): Session {
  const server = serverDate === null ? NaN : Date.parse(serverDate)
  const skew = Number.isFinite(server) ? server - now : 0
  return {
    token: answer.token,
    username: answer.user.username,
    role: answer.user.role,
    expiresAtLocal: Date.parse(answer.expiresAt) - skew,
    skewMs: skew
  }
}

import type { Clock } from '../clock.js'

export interface FailureLimiterOptions {
  /** Failures within windowMs that start a penalty. */
  maxFailures: number
  windowMs: number
  /** How long a key is refused once it hit maxFailures. */
  penaltyMs: number
  /** Keys remembered at most (the oldest are forgotten first), so a spray of addresses cannot grow memory. */
  maxKeys?: number
}

interface Entry { failures: number, windowStart: number, blockedUntil: number }

/**
 * Counts failed logins per key (a remote address, a username) and refuses a key for penaltyMs once it failed
 * maxFailures times within windowMs. Pure bookkeeping over an injected clock: no timers.
 */
export class FailureLimiter {
  private readonly entries = new Map<string, Entry>()
  constructor (private readonly opts: FailureLimiterOptions, private readonly clock: Pick<Clock, 'now'>) {}

  /** Is this key in a penalty window? */
  blocked (key: string): boolean {
    const e = this.entries.get(key)
    return e !== undefined && e.blockedUntil > this.clock.now()
  }

  /** Has this key failed recently (within the window or a penalty)? */
  failedRecently (key: string): boolean {
    const e = this.entries.get(key)
    if (e === undefined) return false
    const now = this.clock.now()
    return e.blockedUntil > now || now - e.windowStart < this.opts.windowMs
  }

  /** Records a failure; true when this failure starts a penalty. */
  fail (key: string): boolean {
    const now = this.clock.now()
    let e = this.entries.get(key)
    if (e === undefined || (now - e.windowStart >= this.opts.windowMs && e.blockedUntil <= now)) {
      e = { failures: 0, windowStart: now, blockedUntil: 0 }
    }
    this.entries.delete(key) // re-insert: the Map's order is then least recently failed first
    this.entries.set(key, e)
    this.prune()
    e.failures++
    if (e.failures >= this.opts.maxFailures && e.blockedUntil <= now) {
      e.blockedUntil = now + this.opts.penaltyMs
      e.failures = 0
      e.windowStart = now
      return true
    }
    return false
  }

  /** A success clears the key's count. */
  succeed (key: string): void {
    this.entries.delete(key)
  }

  private prune (): void {
    const max = this.opts.maxKeys ?? 10000
    for (const key of this.entries.keys()) {
      if (this.entries.size <= max) break
      this.entries.delete(key)
    }
  }
}

/** The limiter key of a peer address; IPv4-mapped IPv6 counts as the IPv4 address it maps. */
export function addressKey (address: string | undefined): string {
  return `addr:${(address ?? '?').replace(/^::ffff:/, '')}`
}

/** The limiter key of a username. */
export function userKey (username: string): string {
  return `user:${username}`
}

import type { EventLevel } from '../../entities/event-log.js'
import { globMatches } from '../auth/glob.js'

/** Event levels, lowest first: a webhook's `minLevel` lets through its own level and every one after it. */
export const EVENT_LEVELS: readonly EventLevel[] = ['info', 'warning', 'error', 'critical']

/**
 * What a webhook subscribes to: event types (exact, or with `*` matching any run of characters) and a minimum level.
 */
export interface WebhookFilter {
  readonly events: readonly string[]
  readonly minLevel: EventLevel
}

/** `device_*` matches `device_connected`; `*` alone matches every type. */
export function typeMatches (pattern: string, type: string): boolean {
  return globMatches(pattern, type)
}

/**
 * An event is delivered when its level is at least the webhook's and its type matches one pattern (an empty list
 * matches all).
 */
export function filterMatches (filter: WebhookFilter, event: { type: string, level: EventLevel }): boolean {
  if (EVENT_LEVELS.indexOf(event.level) < EVENT_LEVELS.indexOf(filter.minLevel)) return false
  return filter.events.length === 0 || filter.events.some(p => typeMatches(p, event.type))
}

export interface BackoffConfig { readonly baseDelayMs: number, readonly maxDelayMs: number }

/**
 * The wait before the attempt after the `failedAttempts`-th failure: exponential backoff with full jitter
 * (a uniformly random time in [1, min(max, base * 2^(n-1))] ms), so many deliveries failing together spread out.
 * At least 1 ms: a retry never goes out in the same instant as the failure it follows.
 */
export function backoffMs (failedAttempts: number, cfg: BackoffConfig, random: () => number = Math.random): number {
  const cap = Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** Math.min(failedAttempts - 1, 52))
  return 1 + Math.floor(random() * cap)
}

export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * The per-endpoint breaker, read from the webhook's columns: open while `circuitOpenUntil` is ahead; once it has
 * passed with the failure count still at the threshold, the next request is the trial (half-open): a success
 * closes the circuit (count reset), a failure opens it again for another cool-down.
 */
export function circuitState (
  hook: { failureCount: number, circuitOpenUntil: number | null },
  threshold: number,
  now: number
): CircuitState {
  if (hook.circuitOpenUntil !== null && hook.circuitOpenUntil > now) return 'open'
  return hook.failureCount >= threshold ? 'half-open' : 'closed'
}

import type { Clock } from '../clock.js'

/**
 * At most one pass per key per interval, counting what it held back, so a misbehaving client cannot flood
 * the log or the event table. Keys are forgotten oldest first past maxKeys.
 */
export class Throttle {
  private readonly last = new Map<string, { at: number, suppressed: number }>()
  constructor (
    private readonly clock: Pick<Clock, 'now'>,
    private readonly intervalMs: number,
    private readonly maxKeys = 10000
  ) {}

  /** undefined when held back; else how many were held back since the last pass. */
  take (key: string): number | undefined {
    const now = this.clock.now()
    const e = this.last.get(key)
    if (e !== undefined && now - e.at < this.intervalMs) {
      e.suppressed++
      return undefined
    }
    this.last.delete(key)
    this.last.set(key, { at: now, suppressed: 0 })
    if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string)
    return e?.suppressed ?? 0
  }
}

/**
 * Tracks the writes of one table that are stamped with a time but not yet committed, so a reader asking "what
 * changed after T?" can stop where nothing can still appear: a write takes its timestamp from the clock before
 * its statement runs (several awaits later, or on PostgreSQL in another connection), so without this a row
 * stamped 10:00:00.005 could commit after a reader at .006 had moved its cursor past it, and be missed forever.
 */
export class WriteHorizon {
  /** Stamp → writes with that stamp still running. */
  private readonly running = new Map<number, number>()

  /** Runs `work`, a write stamped `ts`, keeping `ts` open until it settles. */
  async track<T> (ts: number, work: () => Promise<T>): Promise<T> {
    this.running.set(ts, (this.running.get(ts) ?? 0) + 1)
    try {
      return await work()
    } finally {
      const left = (this.running.get(ts) ?? 1) - 1
      if (left === 0) this.running.delete(ts)
      else this.running.set(ts, left)
    }
  }

  /**
   * The latest time T such that every write stamped ≤ T has committed: one millisecond before `now` (a write in
   * the current millisecond may still come) and before the oldest write still running.
   */
  horizon (now: number): number {
    let h = now - 1
    for (const ts of this.running.keys()) if (ts - 1 < h) h = ts - 1
    return h
  }
}

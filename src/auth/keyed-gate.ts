/**
 * At most `limit` concurrent holders per key; the others wait in order (up to maxWaiting, then refused).
 * The authenticator holds one slot per remote address while it hashes, so a burst of parallel guesses cannot
 * all be hashed before the first failures are counted, while good clients sharing an address only queue.
 * A caller may ask for a lower limit, read each time it could take a slot (an address that has failed recently
 * gets one), so a guessing address cannot hold more than one of libuv's four threads that other clients' hashes
 * need, even with attempts that queued before its first failure.
 */
export class KeyedGate {
  private readonly held = new Map<string, { count: number, waiting: Array<{ limit: () => number, wake: () => void }> }>()
  constructor (private readonly limit: number, private readonly maxWaiting = 1000) {}

  /** Resolves with a release function, or with undefined when too many already wait for this key. */
  async acquire (key: string, limit: () => number = () => this.limit): Promise<(() => void) | undefined> {
    let slot = this.held.get(key)
    if (slot === undefined) {
      slot = { count: 0, waiting: [] }
      this.held.set(key, slot)
    }
    if (slot.count >= this.max(limit) || slot.waiting.length > 0) {
      if (slot.waiting.length >= this.maxWaiting) return undefined
      const s = slot
      await new Promise<void>(resolve => s.waiting.push({ limit, wake: resolve }))
    } else {
      slot.count++
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.release(key)
    }
  }

  private max (limit: () => number): number {
    return Math.min(limit(), this.limit)
  }

  /** Frees a slot and wakes waiters in order while the first one's limit allows it. */
  private release (key: string): void {
    const slot = this.held.get(key)
    if (slot === undefined) return
    slot.count--
    while (slot.waiting.length > 0 && slot.count < this.max(slot.waiting[0].limit)) {
      slot.count++
      slot.waiting.shift()?.wake()
    }
    if (slot.count === 0) this.held.delete(key)
  }
}

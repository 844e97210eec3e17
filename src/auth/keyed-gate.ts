/**
 * At most `limit` concurrent holders per key; the others wait in order (up to maxWaiting, then refused).
 * The authenticator holds one slot per remote address while it checks credentials, so a burst of parallel guesses
 * from one address is hashed one at a time (its first failures are counted before the next guess is hashed, and
 * it never holds more than one of the threads that other clients' hashes need), while good clients sharing an
 * address only queue.
 */
export class KeyedGate {
  private readonly held = new Map<string, { count: number, waiting: Array<() => void> }>()
  constructor (private readonly limit: number, private readonly maxWaiting = 1000) {}

  /** Resolves with a release function, or with undefined when too many already wait for this key. */
  async acquire (key: string): Promise<(() => void) | undefined> {
    let slot = this.held.get(key)
    if (slot === undefined) {
      slot = { count: 0, waiting: [] }
      this.held.set(key, slot)
    }
    if (slot.count >= this.limit) {
      if (slot.waiting.length >= this.maxWaiting) return undefined
      const s = slot
      await new Promise<void>(resolve => s.waiting.push(resolve))
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

  /** Frees a slot: hands it to the first waiter, or forgets the key once nobody holds it. */
  private release (key: string): void {
    const slot = this.held.get(key)
    if (slot === undefined) return
    const next = slot.waiting.shift()
    if (next !== undefined) {
      next()
      return
    }
    slot.count--
    if (slot.count === 0) this.held.delete(key)
  }
}

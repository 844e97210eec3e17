import type { Clock, Timer } from '../../src/clock.js'

interface Pending { at: number, fn: () => void, every?: number, id: number }

/** A Clock that moves only when told: `advance(ms)` runs every timer that falls due, in order. */
export class FakeClock implements Clock {
  private pending: Pending[] = []
  private nextId = 0
  constructor (private current = Date.UTC(2026, 0, 1)) {}

  now (): number { return this.current }

  setTimeout (fn: () => void, ms: number): Timer { return this.add(fn, ms) }
  setInterval (fn: () => void, ms: number): Timer { return this.add(fn, ms, Math.max(1, ms)) }

  private add (fn: () => void, ms: number, every?: number): Timer {
    const p: Pending = { at: this.current + Math.max(0, ms), fn, every, id: this.nextId++ }
    this.pending.push(p)
    return { cancel: () => { this.pending = this.pending.filter(x => x !== p) } }
  }

  /** Moves time forward, firing due timers (and the intervals they re-arm) in time order. */
  advance (ms: number): void {
    const until = this.current + ms
    for (;;) {
      const due = this.pending.filter(p => p.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (due === undefined) break
      this.current = due.at
      if (due.every === undefined) this.pending = this.pending.filter(p => p !== due)
      else due.at += due.every
      due.fn()
    }
    this.current = until
  }

  /** advance(), then let the promise callbacks the timers started run. */
  async tick (ms: number): Promise<void> {
    this.advance(ms)
    for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
  }
}

/**
 * Time, injected: services read the time and set timers only through a Clock, so buffers, timeouts and
 * retention are tested with test/helpers/fake-clock.ts instead of sleeping.
 */
export interface Timer { cancel: () => void }

export interface Clock {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => Timer
  setInterval: (fn: () => void, ms: number) => Timer
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout (fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref()
    return { cancel: () => clearTimeout(t) }
  },
  setInterval (fn, ms) {
    const t = setInterval(fn, ms)
    t.unref()
    return { cancel: () => clearInterval(t) }
  }
}

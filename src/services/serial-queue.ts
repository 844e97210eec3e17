/** Runs work per key one at a time, in call order; a failure rejects only its own caller. */
export interface SerialQueue {
  run: <T>(key: string, work: () => Promise<T>) => Promise<T>
  /** Resolves once everything queued so far has settled. */
  idle: () => Promise<void>
}

export function serialQueue (): SerialQueue {
  const tails = new Map<string, Promise<void>>()
  return {
    run<T> (key: string, work: () => Promise<T>): Promise<T> {
      const result = (tails.get(key) ?? Promise.resolve()).then(work)
      const tail = result.then(() => {}, () => {})
      tails.set(key, tail)
      void tail.then(() => { if (tails.get(key) === tail) tails.delete(key) })
      return result
    },
    async idle (): Promise<void> {
      await Promise.all(tails.values())
    }
  }
}

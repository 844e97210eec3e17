import type { Timer } from '../clock.js'

/**
 * The state of a service's periodic work: its timer, the run in flight and whether the service was stopped.
 * `stop()` cancels the timer and waits for the run in flight, which its owner has made never to fail.
 */
export class BackgroundJob<T> {
  timer?: Timer
  stopped = false
  private running?: Promise<T>

  /** The run in flight, or `run()` started now: a run already under way is joined rather than doubled. */
  join (run: () => Promise<T>): Promise<T> {
    this.running ??= run().finally(() => { this.running = undefined })
    return this.running
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    await this.running?.catch(() => undefined)
  }
}

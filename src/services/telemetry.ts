import type { Clock } from '../clock.js'
import type { Config } from '../config/types.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { Logger } from '../log.js'
import type { TelemetryRepository } from '../persistence/repositories/telemetry.js'
import { TelemetryBuffer, type TelemetryBufferState } from './telemetry-buffer.js'

export interface TelemetryState extends TelemetryBufferState {
  /** Messages the telemetry and CAN steps dropped: device unknown, or what the payload guard's schema cannot check. */
  refused: number
}

// One warning per window at most: a device stuck on a bad payload must not flood the journal.
const REFUSED_LOG_WINDOW_MS = 10_000

/**
  * The telemetry parts shared by the ingest step (gateway/handlers/telemetry.ts), the CAN handler, /health and the
  * final flush:
 * built by app.ts right after the database, before the broker, so it can be flushed after the broker closes.
 */
export class TelemetryStore {
  readonly repo: TelemetryRepository
  readonly buffer: TelemetryBuffer
  private readonly log: Logger
  private readonly clock: Clock
  private refusedCount = 0
  private suppressed = 0
  private lastLogAt = -Infinity

  constructor (deps: { config: Config, clock: Clock, log: Logger, repo: TelemetryRepository }) {
    this.log = deps.log.child({ module: 'telemetry' })
    this.clock = deps.clock
    this.repo = deps.repo
    this.buffer = new TelemetryBuffer(this.repo, deps.config.telemetry, deps.clock, this.log)
  }

  /** Counts a refused message and logs it, at most once per window (with how many were not logged). */
  refused (reason: string, deviceUuid: string): void {
    this.refusedCount++
    const now = this.clock.now()
    if (now - this.lastLogAt < REFUSED_LOG_WINDOW_MS) {
      this.suppressed++
      return
    }
    this.log.warn(
      { deviceUuid, reason, suppressed: this.suppressed, refused: this.refusedCount },
      'telemetry message refused'
    )
    this.lastLogAt = now
    this.suppressed = 0
  }

  state (): TelemetryState {
    return { ...this.buffer.state(), refused: this.refusedCount }
  }
}

/**
 * Ingest of SPEC §3 telemetry: an inbound step (gateway/inbound.ts, gateway/handlers/telemetry.ts) feeds the store's
 * buffer. Stopping writes what is buffered; the buffer keeps accepting until the broker has closed, and app.ts
 * drains it once more after that, so a QoS 0 reading that reached the gateway before SIGTERM is kept.
 */
export class TelemetryService implements Service {
  readonly name = 'telemetry'

  constructor (private readonly ctx: Services) {}

  async start (): Promise<void> {}

  async stop (): Promise<void> {
    await this.ctx.telemetry.buffer.drain()
  }
}

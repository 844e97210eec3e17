import type { Clock, Timer } from '../clock.js'
import type { Config } from '../config/types.js'
import type { Logger } from '../log.js'
import type { TelemetryRow } from '../persistence/repositories/telemetry.js'

/** What the buffer needs from the store (TelemetryRepository). */
export interface TelemetryWriter {
  insertBatch: (rows: TelemetryRow[]) => Promise<{ dropped: number }>
  /**
   * Present when the store can write and commit a batch before returning (SQLite on the in-process connection):
   * a full buffer is then written at once by the publish that fills it, instead of holding every publish after it.
   */
  insertBatchSync?: (rows: TelemetryRow[]) => { dropped: number }
  busy: () => boolean
}

/** The buffer's state, for /health and logs. */
export interface TelemetryBufferState {
  /** Readings accepted and not yet committed (the open batch and the one being written). */
  buffered: number
  /** Age of the oldest uncommitted reading, ms (0 when empty). */
  lagMs: number
  /** True while buffered > telemetry.maxBuffered: new readings wait before they are accepted. */
  backpressure: boolean
  /** Publishes held by backpressure right now. */
  waiting: number
  written: number
  failed: number
  batches: number
}

/** One group commit: every QoS 1 reading of the batch waits on the same promise, so a reading costs no promise. */
class Batch {
  rows: TelemetryRow[] = []
  firstAt = 0
  private settle?: { resolve: (v: 'deliver') => void, reject: (err: Error) => void }
  private promise?: Promise<'deliver'>

  // Resolves with the publish pipeline's verdict itself, so the interceptor hands it to the broker as is.
  committed (): Promise<'deliver'> {
    this.promise ??= new Promise<'deliver'>((resolve, reject) => { this.settle = { resolve, reject } })
    return this.promise
  }

  done (err?: Error): void {
    if (this.settle === undefined) return
    if (err === undefined) this.settle.resolve('deliver')
    else this.settle.reject(err)
  }
}

type Limits = Pick<Config['telemetry'], 'batchSize' | 'flushIntervalMs' | 'maxBuffered'>

/**
 * Batches readings into one transaction per `batchSize` readings or `flushIntervalMs`, whichever comes first, or
  * at the next event-loop turn when a durable (QoS 1) reading waits (group commit). `append` answers undefined
  * (accepted, best effort) or a promise resolved once the reading's batch is committed
 * (durable: the caller holds the PUBACK on it). Past `maxBuffered` a synchronous writer (SQLite) writes the full
 * buffer at once; otherwise every append waits until the writer catches up, and the broker reads no further packet
 * from that client meanwhile. Either way memory stays bounded.
 */
export class TelemetryBuffer {
  private open = new Batch()
  private writing?: Batch
  private timer?: Timer
  private immediate?: NodeJS.Immediate
  private drainWaiters: Array<() => void> = []
  private stopped = false
  private stats = { written: 0, failed: 0, batches: 0 }

  constructor (
    private readonly writer: TelemetryWriter,
    private readonly limits: Limits,
    private readonly clock: Clock,
    private readonly log: Logger
  ) {}

  get size (): number {
    return this.open.rows.length + (this.writing?.rows.length ?? 0)
  }

  state (): TelemetryBufferState {
    const oldest = this.writing?.firstAt ?? (this.open.rows.length > 0 ? this.open.firstAt : undefined)
    return {
      buffered: this.size,
      lagMs: oldest === undefined ? 0 : this.clock.now() - oldest,
      backpressure: this.size > this.limits.maxBuffered,
      waiting: this.drainWaiters.length,
      ...this.stats
    }
  }

  /**
   * Accepts rows. Answers undefined when accepted at once and not durable; otherwise a promise of 'deliver',
   * resolved once the rows are committed (durable) or accepted after backpressure (not durable).
   */
  append (rows: TelemetryRow[], durable: boolean): Promise<'deliver'> | undefined {
    if (this.size > this.limits.maxBuffered && !this.writeNow()) return this.appendLater(rows, durable)
    const batch = this.open
    if (batch.rows.length === 0) {
      batch.firstAt = this.clock.now()
      if (!this.stopped) this.timer = this.clock.setTimeout(() => this.flushSoon(), this.limits.flushIntervalMs)
    }
    for (const r of rows) batch.rows.push(r)
    // Group commit: a durable reading is written at the next turn of the event loop, with every packet read
    // meanwhile (while a commit's fsync blocks the loop, the next batch fills up in the sockets); QoS 0 alone
    // waits for batchSize or flushIntervalMs.
    if (durable || batch.rows.length >= this.limits.batchSize || this.stopped) this.flushSoon()
    return durable ? batch.committed() : undefined
  }

  private appendLater (rows: TelemetryRow[], durable: boolean): Promise<'deliver'> {
    if (this.drainWaiters.length === 0) {
      this.log.warn({ buffered: this.size, maxBuffered: this.limits.maxBuffered }, 'telemetry backpressure on')
    }
    this.flushSoon()
    return new Promise<void>(resolve => this.drainWaiters.push(resolve)).then(
      () => this.append(rows, durable) ?? 'deliver'
    )
  }

  /** Flushes on the next turn of the event loop, so the rest of the packets already read join the batch. */
  private flushSoon (): void {
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined
      this.flush().catch(err => this.log.error({ err }, 'telemetry flush failed'))
    })
  }

  /**
   * Backpressure with a synchronous writer: when no write is under way, nobody waits yet and the connection is
   * free, the full open batch is written and committed right here, by the publish that found the buffer full.
   * The event loop is blocked exactly as long as by a flush at the next turn, and no publish is held, so nothing
   * piles up in memory behind the buffer. False when the writer cannot do that now: the caller waits instead.
   */
  private writeNow (): boolean {
    const insertSync = this.writer.insertBatchSync
    if (insertSync === undefined || this.writing !== undefined || this.drainWaiters.length > 0 || this.writer.busy()) {
      return false
    }
    const batch = this.take()
    try {
      this.written(batch, insertSync(batch.rows).dropped)
    } catch (err) {
      this.notWritten(batch, err as Error)
    } finally {
      this.writing = undefined
    }
    this.afterWrite()
    return this.size <= this.limits.maxBuffered
  }

  /** Writes the open batch (one transaction). Batches commit one at a time, in order. */
  async flush (): Promise<void> {
    if (this.writing !== undefined || this.open.rows.length === 0) return
    if (this.writer.busy()) {
      // Another transaction holds the connection; joining it would tie our durability to its commit.
      this.flushSoon()
      return
    }
    const batch = this.take()
    const started = this.clock.now()
    try {
      this.written(batch, (await this.writer.insertBatch(batch.rows)).dropped)
    } catch (err) {
      this.notWritten(batch, err as Error)
    } finally {
      this.writing = undefined
    }
    this.log.trace({ readings: batch.rows.length, ms: this.clock.now() - started }, 'telemetry batch written')
    this.releaseWaiters()
    this.afterWrite()
  }

  /** The open batch becomes the one being written. */
  private take (): Batch {
    this.timer?.cancel()
    this.timer = undefined
    const batch = this.writing = this.open
    this.open = new Batch()
    return batch
  }

  private written (batch: Batch, dropped: number): void {
    if (dropped > 0) this.log.warn({ dropped }, 'telemetry readings of deleted devices dropped')
    this.stats.written += batch.rows.length - dropped
    this.stats.failed += dropped
    this.stats.batches++
    batch.done()
  }

  private notWritten (batch: Batch, err: Error): void {
    this.stats.failed += batch.rows.length
    this.log.error({ err, readings: batch.rows.length }, 'telemetry batch not written')
    batch.done(err)
  }

  /** What is left in the open batch is due at once (full, or stopping) or at its age. */
  private afterWrite (): void {
    if (this.open.rows.length >= this.limits.batchSize || (this.stopped && this.open.rows.length > 0)) this.flushSoon()
    else if (this.open.rows.length > 0 && this.timer === undefined) {
      this.timer = this.clock.setTimeout(
        () => this.flushSoon(),
        Math.max(0, this.open.firstAt + this.limits.flushIntervalMs - this.clock.now())
      )
    }
  }

  private releaseWaiters (): void {
    if (this.drainWaiters.length === 0 || this.size > this.limits.maxBuffered) return
    const waiters = this.drainWaiters
    this.drainWaiters = []
    this.log.info({ released: waiters.length, buffered: this.size }, 'telemetry backpressure off')
    for (const w of waiters) w()
  }

  /**
   * Writes everything accepted so far. After stop the buffer still accepts readings (a client may publish until
   * the broker has closed it) and writes each at once; app.ts calls drain() again after the broker has closed.
   */
  async drain (): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    this.timer = undefined
    const turn = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))
    while (this.size > 0 || this.drainWaiters.length > 0) {
      if (this.writing === undefined && !this.writer.busy()) await this.flush()
      this.releaseWaiters()
      // Lets a write in progress finish, and released publishes append before the next round.
      await turn()
    }
  }
}

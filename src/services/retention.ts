import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { Logger } from '../log.js'
import { BackgroundJob } from './background-job.js'
import { MINUTE_MS, type TelemetryRetentionRepository } from '../persistence/repositories/telemetry-retention.js'
import { CHUNK_WINDOW_MS, type TelemetryChunkRepository } from '../persistence/repositories/telemetry-chunks.js'
import type { TelemetryAggregateChunkRepository } from '../persistence/repositories/telemetry-aggregate-chunks.js'

const DAY_MS = 86_400_000
/** A minute of the head is closed into chunks this long after it has ended, so readings still on their way join
 * it (a later one joins its hour's chunk at the merge); an hour's chunks are merged as soon as the hour's last
 * minute is closed. */
export const CHUNK_CLOSE_DELAY_MS = 60_000
/** With the chunk store, the head is closed this often (or every retentionIntervalMs, if that is shorter): it holds
 * at most CHUNK_CLOSE_DELAY_MS + this + the minute under way. The rest of the pass keeps retentionIntervalMs. */
export const CHUNK_CLOSE_INTERVAL_MS = 60_000

export interface RetentionReport {
  folded: number
  /** telemetry.chunkStore: readings moved from the head into closed chunks, and chunks dropped by age. */
  chunked?: number
  /** telemetry.chunkStore: readings whose hour's chunks were merged into one. */
  chunksMerged?: number
  chunksDropped?: number
  /** telemetry.chunkStore: minute aggregates moved into day chunks, and day chunks dropped by age. */
  aggregatesCompacted?: number
  aggregateChunksDropped?: number
  aggregatesDeleted: number
  eventsDeleted: number
  journalDeleted: number
  chunks: number
  ms: number
  space?: { autoVacuum: number, freePages: number }
}

/**
 * Every `telemetry.retentionIntervalMs` (injected clock): folds raw readings older than `rawRetentionDays` into
 * per-minute aggregates and deletes them, deletes aggregates older than `aggregateRetentionDays` and events older
 * than `events.retentionDays`, journal rows older than `journal.retentionDays`, then gives the space back (SQLite).
 * With the chunk store, the head is also closed into chunks every CHUNK_CLOSE_INTERVAL_MS, in a pass that only
 * closes, merges and compacts (its freed pages stay for the next inserts). Each chunk is its own short transaction
 * and the job yields to the event loop between chunks, so ingest batches interleave with a long catch-up.
 */
export class RetentionService implements Service {
  readonly name = 'retention'
  private readonly job = new BackgroundJob<RetentionReport>()
  private readonly repo: RetentionRepo
  private readonly chunks: TelemetryChunkRepository
  private readonly aggregateChunks: TelemetryAggregateChunkRepository
  private readonly log: Logger
  /** The next pass is a full one (not only the head's close): its interval is over, or runOnce asked for it. */
  private fullDue = false

  constructor (private readonly ctx: Services) {
    this.repo = ctx.repos.retention
    this.chunks = ctx.repos.telemetryChunks
    this.aggregateChunks = ctx.repos.telemetryAggregateChunks
    this.log = ctx.log.child({ module: 'retention' })
  }

  async start (): Promise<void> {
    this.job.stopped = false
    const { retentionIntervalMs, chunkStore } = this.ctx.config.telemetry
    const every = chunkStore ? Math.min(retentionIntervalMs, CHUNK_CLOSE_INTERVAL_MS) : retentionIntervalMs
    let since = 0
    this.job.timer = this.ctx.clock.setInterval(() => {
      since += every
      if (since >= retentionIntervalMs) [since, this.fullDue] = [0, true]
      void this.tick()
    }, every)
  }

  async stop (): Promise<void> {
    await this.job.stop()
  }

  /** A full pass that starts after this call (a pass under way is waited for first). Failures are logged, never
   * thrown. */
  async runOnce (): Promise<RetentionReport> {
    this.fullDue = true
    let report = await this.tick()
    while (this.fullDue && !this.job.stopped) report = await this.tick()
    return report
  }

  /** What the timer runs: a full pass when one is due, else (chunk store) the head's close; a pass already under
   * way is joined rather than doubled. */
  tick (): Promise<RetentionReport> {
    return this.job.join(async () => await this.pass().catch(err => {
      this.log.error({ err }, 'retention failed')
      return { folded: 0, aggregatesDeleted: 0, eventsDeleted: 0, journalDeleted: 0, chunks: 0, ms: 0 }
    }))
  }

  private async pass (): Promise<RetentionReport> {
    const { config, clock } = this.ctx
    const full = this.fullDue || !config.telemetry.chunkStore
    this.fullDue = false
    const started = clock.now()
    const now = clock.now()
    // Minute-aligned, so a minute is either all raw or all folded.
    const rawCutoff = Math.floor((now - config.telemetry.rawRetentionDays * DAY_MS) / MINUTE_MS) * MINUTE_MS
    const chunk = config.telemetry.retentionChunkRows
    const report: RetentionReport = {
      folded: 0,
      aggregatesDeleted: 0,
      eventsDeleted: 0,
      journalDeleted: 0,
      chunks: 0,
      ms: 0
    }
    if (config.telemetry.chunkStore) {
      // Each closed slice folds its own minutes into aggregates; the head keeps only the last minutes.
      const closeCutoff = Math.floor((now - CHUNK_CLOSE_DELAY_MS) / MINUTE_MS) * MINUTE_MS
      const hourCutoff = Math.floor(closeCutoff / CHUNK_WINDOW_MS) * CHUNK_WINDOW_MS
      report.chunked = await this.chunked(report, () => this.chunks.closeOne(closeCutoff, chunk))
      report.chunksMerged = await this.chunked(report, () => this.chunks.mergeOne(hourCutoff, chunk))
      // The minutes of the closed hours join their series' day chunk (rewritten each hour: a minute row costs as
      // much as ~60 compacted minutes, so rows never pile up for a day).
      report.aggregatesCompacted = await this.chunked(report, () => this.aggregateChunks.compactOne(hourCutoff))
      if (!full) return this.closed(report, started)
      // Rows left in the head past retention (closeCutoff is later, so none unless the clock jumped back).
      report.folded = await this.chunked(report, () => this.repo.foldChunk(rawCutoff, chunk))
      report.chunksDropped = await this.chunked(report, () => this.chunks.drop(rawCutoff, chunk))
      const aggregateCutoff = now - config.telemetry.aggregateRetentionDays * DAY_MS
      report.aggregateChunksDropped = await this.chunked(report, () =>
        this.aggregateChunks.drop(aggregateCutoff, chunk)
      )
    } else {
      report.folded = await this.chunked(report, () => this.repo.foldChunk(rawCutoff, chunk))
    }
    report.aggregatesDeleted = await this.chunked(report, () =>
      this.repo.deleteAggregates(now - config.telemetry.aggregateRetentionDays * DAY_MS, chunk)
    )
    report.eventsDeleted = await this.chunked(report, () =>
      this.repo.deleteEvents(now - config.events.retentionDays * DAY_MS, chunk)
    )
    report.journalDeleted = await this.chunked(report, () =>
      this.ctx.repos.journal.deleteOlderThan(now - config.journal.retentionDays * DAY_MS, chunk)
    )
    if (
      report.folded +
        report.aggregatesDeleted +
        report.eventsDeleted +
        report.journalDeleted +
        (report.chunked ?? 0) +
        (report.chunksMerged ?? 0) +
        (report.chunksDropped ?? 0) +
        (report.aggregatesCompacted ?? 0) +
        (report.aggregateChunksDropped ?? 0) >
      0
    ) { report.space = this.repo.reclaim() }
    report.ms = clock.now() - started
    this.log.info({ ...report }, 'retention pass')
    return report
  }

  /** The end of a pass that only closed the head: logged at debug (once a minute), no space given back. */
  private closed (report: RetentionReport, started: number): RetentionReport {
    report.ms = this.ctx.clock.now() - started
    this.log.debug({ ...report }, 'retention: head closed')
    return report
  }

  private async chunked (report: RetentionReport, step: () => Promise<number>): Promise<number> {
    let total = 0
    while (!this.job.stopped) {
      // Each step waits for the single SQLite connection to be free of others' transactions (SqliteStore.write).
      const n = await step()
      report.chunks++
      total += n
      if (n === 0) break
      await yieldTurn()
    }
    return total
  }
}

type RetentionRepo = Pick<TelemetryRetentionRepository, 'foldChunk' | 'deleteAggregates' | 'deleteEvents' | 'reclaim'>

async function yieldTurn (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

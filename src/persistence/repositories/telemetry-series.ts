import type { DataSource } from 'typeorm'
import type { ChunkReading } from '../chunks/codec.js'
import { query } from './sql.js'
import type { TelemetryChunkRepository } from './telemetry-chunks.js'
import type { TelemetryAggregateChunkRepository } from './telemetry-aggregate-chunks.js'
import { MINUTE_MS } from './telemetry-retention.js'

export interface SeriesPoint { t: number, count: number, min: number, max: number, avg: number, last: number }

/** Where readings and minutes go once they leave the head and the aggregate rows (TelemetryRepository). */
export interface ClosedStores {
  readonly chunks: TelemetryChunkRepository
  readonly aggregateChunks: TelemetryAggregateChunkRepository
}

/**
 * Buckets of `bucketMs` over [from, to) for one key, from raw rows and per-minute aggregates alike: a bucket
 * that straddles the retention boundary combines both (count-weighted average; `last` from the newer side).
 * Closed chunks are never decoded here: their minutes were folded into aggregates when they closed. Minute
 * aggregates are read from their rows and from the day chunks they were compacted into (aggregateChunks).
 */
export async function seriesOf (
  ds: DataSource,
  { chunks, aggregateChunks }: ClosedStores,
  q: { deviceId: number, key: string, from: number, to: number, bucketMs: number }
): Promise<SeriesPoint[]> {
  const { deviceId, key, from, to, bucketMs } = q
  // bucketMs is inlined: an integer checked here (PostgreSQL cannot type a bare parameter in arithmetic).
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new RangeError('bucketMs must be a positive integer')
  const params = [deviceId, key, from, to]
  const { skip, readings } = await edgeMinutes(chunks, deviceId, key, from, to)
  const notSkipped = skip.map(() => ' AND bucket_start <> ?').join('')
  const agg = await query<Record<string, number | string>>(ds, `
    SELECT b, SUM(count) AS count, MIN(min) AS min, MAX(max) AS max, SUM(avg * count) / SUM(count) AS avg,
      MAX(CASE WHEN rn = 1 THEN last END) AS last, MAX(bucket_start) AS newest
    FROM (SELECT (bucket_start / ${bucketMs}) * ${bucketMs} AS b, bucket_start, count, min, max, avg, last,
            ROW_NUMBER() OVER (PARTITION BY bucket_start / ${bucketMs} ORDER BY bucket_start DESC) AS rn
          FROM telemetry_aggregates
          WHERE device_id = ? AND key = ? AND bucket_start >= ? AND bucket_start < ?${notSkipped}) a
    GROUP BY b`, [...params, ...skip])
  const raw = await query<Record<string, number | string>>(ds, `
    SELECT b, COUNT(*) AS count, MIN(value) AS min, MAX(value) AS max, AVG(value) AS avg,
      MAX(CASE WHEN rn = 1 THEN value END) AS last, MAX(ts) AS newest
    FROM (SELECT (ts / ${bucketMs}) * ${bucketMs} AS b, ts, value,
            ROW_NUMBER() OVER (PARTITION BY ts / ${bucketMs} ORDER BY ts DESC, id DESC) AS rn
          FROM telemetry_data WHERE device_id = ? AND key = ? AND ts >= ? AND ts < ? AND value IS NOT NULL) r
    GROUP BY b`, params)
  const points = new Map<number, SeriesPoint & { newest: number }>()
  const num = (r: Record<string, number | string>, k: string): number => Number(r[k])
  const point = (r: Record<string, number | string>): SeriesPoint & { newest: number } =>
    ({
      t: num(r, 'b'),
      count: num(r, 'count'),
      min: num(r, 'min'),
      max: num(r, 'max'),
      avg: num(r, 'avg'),
      last: num(r, 'last'),
      newest: num(r, 'newest')
    })
  for (const r of agg) points.set(num(r, 'b'), point(r))
  await aggregateChunks.addBuckets(points, deviceId, key, from, to, bucketMs, skip)
  const rawPoints = new Map<number, SeriesPoint & { newest: number }>()
  for (const r of raw) rawPoints.set(num(r, 'b'), point(r))
  for (const r of readings) {
    const v = r.value as number
    const b = Math.floor(r.ts / bucketMs) * bucketMs
    const p = rawPoints.get(b)
    if (p === undefined) rawPoints.set(b, { t: b, count: 1, min: v, max: v, avg: v, last: v, newest: r.ts })
    else {
      p.avg = (p.avg * p.count + v) / (p.count + 1)
      p.count++
      p.min = Math.min(p.min, v)
      p.max = Math.max(p.max, v)
      if (r.ts >= p.newest) { p.last = v; p.newest = r.ts }
    }
  }
  for (const p of rawPoints.values()) {
    const a = points.get(p.t)
    // `last` from the side with the newer reading: raw rows, unless all of them are older than the newest
    // aggregated minute (a late reading of a minute already folded, or of a closed chunk).
    points.set(p.t, a === undefined
      ? p
      : {
          t: p.t,
          count: a.count + p.count,
          min: Math.min(a.min, p.min),
          max: Math.max(a.max, p.max),
          avg: (a.avg * a.count + p.avg * p.count) / (a.count + p.count),
          last: p.newest >= a.newest ? p.last : a.last,
          newest: 0
        })
  }
  return [...points.values()].sort((a, b) => a.t - b.t).map(({ newest: _n, ...p }) => p)
}

/**
 * A range that starts or ends inside a minute whose readings are in closed chunks: that minute's aggregate
 * would count readings outside the range, so it is left out (`skip`) and its readings inside the range are
 * decoded from the chunks instead (numeric ones, newest last by ts then id), as the row store reads raw rows.
 */
async function edgeMinutes (
  chunks: TelemetryChunkRepository,
  deviceId: number,
  key: string,
  from: number,
  to: number
): Promise<{ skip: number[], readings: ChunkReading[] }> {
  const skip: number[] = []
  const readings: ChunkReading[] = []
  const edges = new Set<number>()
  if (from % MINUTE_MS !== 0) edges.add(Math.floor(from / MINUTE_MS) * MINUTE_MS)
  if (to % MINUTE_MS !== 0) edges.add(Math.floor(to / MINUTE_MS) * MINUTE_MS)
  for (const e of edges) {
    const found = await chunks.chunks(deviceId, { key, from: e, to: e + MINUTE_MS })
    if (found.length === 0) continue
    skip.push(e)
    const [lo, hi] = [Math.max(from, e), Math.min(to, e + MINUTE_MS)]
    for (const c of found) {
      await chunks.read(c.id, r => { if (r.value !== null && r.ts >= lo && r.ts < hi) readings.push(r) })
    }
  }
  readings.sort((a, b) => a.ts - b.ts || a.id - b.id)
  return { skip, readings }
}

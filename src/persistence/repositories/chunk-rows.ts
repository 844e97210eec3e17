import { ChunkEncoder, type ChunkReading } from '../chunks/codec.js'
import type { HeadColumns } from './head-mirror.js'
import { MINUTE_MS } from './telemetry-retention.js'

// A slice of the head as telemetry_chunks rows: its rows grouped by series, each series encoded into one chunk,
// and the per-minute aggregates folded from the same readings (telemetry-chunks.ts writes them).

export interface Minute {
  b: number, count: number, min: number, max: number, sum: number, last: number, lastTs: number, lastId: number
}

/** Per-minute count, min, max, avg and last (by ts, then id) of the numeric readings. */
export function minutes (rs: ChunkReading[]): Minute[] {
  const m = new Map<number, Minute>()
  for (const r of rs) {
    if (r.value === null) continue
    const b = Math.floor(r.ts / MINUTE_MS) * MINUTE_MS
    const a = m.get(b)
    const v = r.value
    if (a === undefined) m.set(b, { b, count: 1, min: v, max: v, sum: v, last: v, lastTs: r.ts, lastId: r.id })
    else {
      a.count++
      if (r.value < a.min) a.min = r.value
      if (r.value > a.max) a.max = r.value
      a.sum += r.value
      if (r.ts > a.lastTs || (r.ts === a.lastTs && r.id > a.lastId)) {
        a.last = r.value; a.lastTs = r.ts; a.lastId = r.id
      }
    }
  }
  return [...m.values()]
}

/**
 * The telemetry_chunks row of readings, in insertion order: the ids (and, mostly, the timestamps) then grow by
 * steady steps, which encode smallest. A slice taken by timestamp is mostly in that order already.
 */
export function chunkRow (deviceId: number, key: string, rows: ChunkReading[]): unknown[] {
  let sorted = true
  for (let i = 1; i < rows.length && sorted; i++) sorted = rows[i - 1].id < rows[i].id
  if (!sorted) rows.sort((a, b) => a.id - b.id)
  const enc = new ChunkEncoder()
  for (const r of rows) enc.append(r)
  const bytes = enc.bytes()
  return [deviceId, key, enc.minTs, enc.maxTs, enc.count, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]
}

/** The rows of each series (device, key), as readings. */
export function bySeries (rows: HeadColumns[]): Array<{ deviceId: number, key: string, rows: ChunkReading[] }> {
  const out: Array<{ deviceId: number, key: string, rows: ChunkReading[] }> = []
  const devices = new Map<number, Map<string, ChunkReading[]>>()
  for (const [id, device, key, ts, value, valueText, unit, dataType] of rows) {
    const deviceId = Number(device)
    let keys = devices.get(deviceId)
    if (keys === undefined) devices.set(deviceId, keys = new Map())
    let series = keys.get(key)
    if (series === undefined) {
      keys.set(key, series = [])
      out.push({ deviceId, key, rows: series })
    }
    series.push({ id: Number(id), ts: Number(ts), value, valueText, unit, dataType })
  }
  return out
}

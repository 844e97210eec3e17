import type { TelemetryDataType } from '../../../entities/telemetry-data.js'
import type { TelemetryRow } from './telemetry.js'
import { MINUTE_MS } from './telemetry-retention.js'

/** A head row as its columns, in the order the slice query selects them (SQLite answers it as arrays). */
export type HeadColumns = [
  id: number | string, deviceId: number | string, key: string, ts: number | string, value: number | null,
  valueText: string | null, unit: string | null, dataType: TelemetryDataType
]

/** What the head holds in a range of timestamps, by id: a slice is taken from the mirror only when these agree. */
export interface RangeIds { n: number, sum: number | null, lo: number | null, hi: number | null }

/** SQLite: the ids of the head's rows in [start, end), from the ts index alone (it holds the rowid). */
export const RANGE_IDS = `SELECT COUNT(*) AS n, SUM(id) AS sum, MIN(id) AS lo, MAX(id) AS hi FROM telemetry_data
  WHERE ts >= ? AND ts < ?`

/** At most this many rows are kept (~15 MB): past it the oldest minutes are forgotten. */
export const MIRROR_MAX_ROWS = 100_000

/**
 * The head's rows as the insert path committed them, by minute, so that closing a slice need not read them back
 * out of SQLite (about 2 µs a row, a third of the close). Only a shortcut: the close takes a slice from the mirror
 * only when the head's own count, sum, least and greatest id over the range (RANGE_IDS, read from the ts index) equal
 * the mirror's, so a row the mirror lacks or still holds (the head before a restart, a device deleted with its rows,
 * another process's insert, a batch rolled back) sends that slice to the head as before. Rows are stored as SQLite
 * gives them back (-0 as 0, NaN as NULL). It starts once the first slice is closed: the row store never fills it.
 */
export class HeadMirror {
  private readonly minutes = new Map<number, HeadColumns[]>()
  private size = 0
  private on = false

  start (): void { this.on = true }

  get active (): boolean { return this.on }

  /** Rows committed, with their ids (each insert's lastInsertRowid). */
  add (rows: readonly TelemetryRow[], ids: readonly number[]): void {
    if (!this.on) return
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      const m = Math.floor(r.ts / MINUTE_MS) * MINUTE_MS
      let list = this.minutes.get(m)
      if (list === undefined) this.minutes.set(m, list = [])
      const value = r.value === null || Number.isNaN(r.value) ? null : r.value === 0 ? 0 : r.value
      list.push([ids[i], r.deviceId, r.key, r.ts, value, r.valueText, r.unit, r.dataType])
    }
    this.size += rows.length
    if (this.size > MIRROR_MAX_ROWS) this.shrink()
  }

  /** The rows of [start, end) (minute-aligned) when they are exactly the head's (`head`: RANGE_IDS over it). */
  slice (start: number, end: number, head: RangeIds): HeadColumns[] | undefined {
    if (!this.on) return undefined
    const rows: HeadColumns[] = []
    let [sum, lo, hi] = [0, Infinity, -Infinity]
    for (const [m, list] of this.minutes) {
      if (m < start || m >= end) continue
      for (const r of list) {
        const id = r[0] as number
        rows.push(r)
        sum += id
        if (id < lo) lo = id
        if (id > hi) hi = id
      }
    }
    if (rows.length !== Number(head.n)) return undefined
    if (rows.length === 0) return rows
    return sum === Number(head.sum) && lo === Number(head.lo) && hi === Number(head.hi) ? rows : undefined
  }

  /** After the slice's commit: its minutes are no longer in the head. */
  forget (start: number, end: number): void {
    for (const [m, list] of this.minutes) {
      if (m < start || m >= end) continue
      this.size -= list.length
      this.minutes.delete(m)
    }
  }

  private shrink (): void {
    const oldest = [...this.minutes.keys()].sort((a, b) => a - b)
    for (const m of oldest) {
      if (this.size <= MIRROR_MAX_ROWS / 2) break
      this.size -= (this.minutes.get(m) as HeadColumns[]).length
      this.minutes.delete(m)
    }
  }
}

import { BitReader, BitWriter } from './bits.js'
import { XorReader, XorWriter } from './floats.js'
import { decimalsOf, MAX_DECIMALS, POW10, scaled } from './ints.js'
import { type KCode, MAX_COLUMN_INT, readIntColumn, writeIntColumn } from './int-columns.js'
import { decodeMinutesV1 } from './aggregates-v1.js'

/** One minute of one series, as telemetry_aggregates holds it. */
export interface MinuteAggregate { t: number, count: number, min: number, max: number, avg: number, last: number }

/** First byte of an aggregate chunk: 0x41 version 1 (aggregates-v1.ts), 0x42 version 2, 0x43 this one; a raw
 * chunk starts 1..4. */
const V1 = 0x41
const V2 = 0x42
const V3 = 0x43
const XOR_FLOATS = 7
/** The decimal scale of a minute's sum is accepted within this relative error (the avg's own summation noise). */
const SUM_TOLERANCE = 2 ** -43
/** How the averages are kept: as themselves, as the minutes' sums, or as each sum's distance from count × mid. */
const AVERAGES = 0
const SUMS = 1
const SUMS_FROM_MID = 2

/**
 * The minutes of one series (one day, in the aggregate store) as columns, each integer column in
 * int-columns.ts's block Rice code (k named relative to the block before's): the minute starts; the counts; then
 * last, and min and max as their distance from the range the minute surely spans (from the minute before's last
 * to its own: a minute that only climbs has its max there and its min one step above), when the three are exact
 * decimals at one scale (else each column as decimals or XOR floats); min,
 * max, last and count come back bit for bit. The average is kept as the minute's sum when every sum is a decimal
 * of at most 6 digits to within 2^-43 relative (sums of decimal readings are, up to the float error of
 * avg × count), as twice its distance from count × (min + max) / 2 when that applies (a smooth minute's sum is
 * near it), and comes back as sum / count: the same within 1e-12 relative, as exact as an average summed in
 * another order. Otherwise the averages themselves are stored, bit for bit (a NaN as V8's arrays keep it).
 */
export function encodeMinutes (ms: MinuteAggregate[]): Uint8Array {
  for (const m of ms) if (!(Math.abs(m.t) < MAX_COLUMN_INT)) throw new RangeError('minute start out of range')
  const w = new BitWriter(ms.length * 2 + 16)
  const column = (vs: number[]): void => { writeIntColumn(w, vs, 'relative') }
  column(ms.map(m => m.t))
  column(ms.map(m => m.count))
  const d = decimalsOf([...ms.map(m => m.min), ...ms.map(m => m.max), ...ms.map(m => m.last)])
  w.write(d < 0 ? XOR_FLOATS : d, 3)
  if (d >= 0) {
    const [min, max, last] = (['min', 'max', 'last'] as const).map(col => ms.map(m => scaled(m[col], d)))
    const [lo, hi] = spanned(last)
    const below = lo.map((l, i) => l - min[i])
    const above = max.map((h, i) => h - hi[i])
    // Apart, when the distances leave the range (values far apart, near 2^50).
    const near = [...below, ...above].every(x => Math.abs(x) < MAX_COLUMN_INT)
    w.write(near ? 1 : 0, 1)
    for (const col of near ? [last, below, above] : [min, max, last]) column(col)
  } else for (const col of ['min', 'max', 'last'] as const) writeColumn(w, ms.map(m => m[col]), 'relative')
  writeAverages(w, ms, d, 'relative')
  const body = w.bytes()
  const out = new Uint8Array(5 + body.length)
  out[0] = V3
  new DataView(out.buffer).setUint32(1, ms.length)
  out.set(body, 5)
  return out
}

/** For each minute, the range its readings surely span: from the minute before's last (its own, for the first)
 * to its own last, low end and high end. */
function spanned (last: number[]): [number[], number[]] {
  const before = last.map((l, i) => i === 0 ? l : last[i - 1])
  return [last.map((l, i) => Math.min(l, before[i])), last.map((l, i) => Math.max(l, before[i]))]
}

export function decodeMinutes (bytes: Uint8Array): MinuteAggregate[] {
  if (bytes.length >= 5 && bytes[0] === V1) return decodeMinutesV1(bytes)
  if (bytes.length < 5 || (bytes[0] !== V2 && bytes[0] !== V3)) throw new RangeError('not an aggregate chunk')
  const v3 = bytes[0] === V3
  const code: KCode = v3 ? 'relative' : 'fixed'
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  const r = new BitReader(bytes.subarray(5))
  const column = (): number[] => readIntColumn(r, n, code)
  const t = column()
  const count = column()
  const d = r.read(3)
  let min: number[], max: number[], last: number[]
  /** Each minute's count × (min + max) at d decimals, when min, max and last are decimals. */
  let mid: number[] | undefined
  if (d !== XOR_FLOATS) {
    let lo: number[], l: number[], hi: number[]
    if (r.readBit() === 1) {
      // Version 2: min and max as distances from last; version 3: from the range spanned (see encodeMinutes).
      [l, lo, hi] = [column(), column(), column()]
      const [low, high] = v3 ? spanned(l) : [l, l]
      lo = low.map((m, i) => m - lo[i])
      hi = high.map((m, i) => m + hi[i])
    } else [lo, hi, l] = [column(), column(), column()]
    const p = POW10[d]
    ;[min, max, last] = [lo.map(m => m / p), hi.map(m => m / p), l.map(m => m / p)]
    mid = lo.map((m, i) => count[i] * (m + hi[i]))
  } else [min, max, last] = [readColumn(r, n, code), readColumn(r, n, code), readColumn(r, n, code)]
  const mode = r.read(2)
  let avg: number[]
  if (mode === AVERAGES) avg = readColumn(r, n, code)
  else {
    const ds = r.read(3)
    const sums = column()
    if (mode === SUMS_FROM_MID) {
      if (mid === undefined) throw new RangeError('aggregate chunk: sums from mid without decimals')
      const up = POW10[ds - d]
      for (let i = 0; i < n; i++) sums[i] = (sums[i] + mid[i] * up) / 2
    }
    avg = sums.map((s, i) => s / POW10[ds] / count[i])
  }
  return t.map((t, i) => ({ t, count: count[i], min: min[i], max: max[i], avg: avg[i], last: last[i] }))
}

/** The averages: as distances of the sums from count × mid, as sums, or as themselves (see encodeMinutes). */
function writeAverages (w: BitWriter, ms: MinuteAggregate[], d: number, code: KCode): void {
  const sums = ms.map(m => m.avg * m.count)
  const ds = sumDecimals(sums)
  if (ds < 0) {
    w.write(AVERAGES, 2)
    writeColumn(w, ms.map(m => m.avg), code)
    return
  }
  const D = Math.max(ds, d)
  const scaledSums = sums.map(s => Math.round(s * POW10[D]))
  if (d >= 0 && scaledSums.every(s => Math.abs(s) < MAX_COLUMN_INT / 4)) {
    const mid = ms.map(m => m.count * (scaled(m.min, d) + scaled(m.max, d)) * POW10[D - d])
    const fromMid = scaledSums.map((s, i) => 2 * s - mid[i])
    if (fromMid.every(x => Math.abs(x) < MAX_COLUMN_INT)) {
      w.write(SUMS_FROM_MID, 2)
      w.write(D, 3)
      writeIntColumn(w, fromMid, code)
      return
    }
  }
  w.write(SUMS, 2)
  w.write(ds, 3)
  writeIntColumn(w, sums.map(s => Math.round(s * POW10[ds])), code)
}

function sumDecimals (sums: number[]): number {
  for (let d = 0; d <= MAX_DECIMALS; d++) {
    const p = POW10[d]
    const near = (s: number): boolean => Number.isFinite(s) && Math.abs(s * p) < MAX_COLUMN_INT &&
      Math.abs(Math.round(s * p) / p - s) <= SUM_TOLERANCE * Math.abs(s)
    if (sums.every(near)) return d
  }
  return -1
}

function writeColumn (w: BitWriter, values: number[], code: KCode): void {
  const d = decimalsOf(values)
  w.write(d < 0 ? XOR_FLOATS : d, 3)
  if (d >= 0) { writeIntColumn(w, values.map(v => scaled(v, d)), code); return }
  const x = new XorWriter()
  for (const v of values) x.write(w, v)
}

function readColumn (r: BitReader, n: number, code: KCode): number[] {
  const d = r.read(3)
  if (d !== XOR_FLOATS) return readIntColumn(r, n, code).map(m => m / POW10[d])
  const x = new XorReader()
  return Array.from({ length: n }, () => x.read(r))
}

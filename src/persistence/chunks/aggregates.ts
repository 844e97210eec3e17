import { BitReader, BitWriter } from './bits.js'
import { XorReader, XorWriter } from './floats.js'
import {
  decimalsOf, MAX_DECIMALS, POW10, readDelta, readDod, scaled, unzigzag, writeDelta, writeDod, zigzag
} from './ints.js'

/** One minute of one series, as telemetry_aggregates holds it. */
export interface MinuteAggregate { t: number, count: number, min: number, max: number, avg: number, last: number }

/** First byte of an aggregate chunk (a raw chunk starts with its version, 1 or 2). */
const MARK = 0x41
const XOR_FLOATS = 7
/** The decimal scale of a minute's sum is accepted within this relative error (the avg's own summation noise). */
const SUM_TOLERANCE = 2 ** -43

/**
 * The minutes of one series (one day, in the aggregate store) as columns: the minute starts as delta-of-delta,
 * then count, min, max and last, each as the deltas (or delta-of-deltas, whichever is smaller) of decimal-scaled
 * integers when every value of the column is an exact decimal, else as XOR floats; min, max, last and count come
 * back bit for bit. The average is kept as the minute's sum when every sum is a decimal of at most 6 digits to
 * within 2^-43 relative (sums of decimal readings are, up to the float error of avg × count), and comes back as
 * sum / count: the same within 1e-12 relative, which is as exact as an average summed in another order.
 * Otherwise the averages themselves are stored, bit for bit (a NaN as V8's arrays keep it: canonical; SQLite
 * stores no NaN in a REAL column anyway).
 */
export function encodeMinutes (ms: MinuteAggregate[]): Uint8Array {
  const w = new BitWriter(ms.length * 8 + 16)
  let [prevT, prevDelta] = [0, 0]
  for (let i = 0; i < ms.length; i++) {
    if (i === 0) w.writeUint(zigzag(ms[0].t), 51)
    else {
      const delta = ms[i].t - prevT
      writeDod(w, delta - prevDelta)
      prevDelta = delta
    }
    prevT = ms[i].t
  }
  for (const col of ['count', 'min', 'max', 'last'] as const) writeColumn(w, ms.map(m => m[col]))
  const sums = ms.map(m => m.avg * m.count)
  const d = sumDecimals(sums)
  w.write(d < 0 ? 0 : 1, 1)
  if (d < 0) writeColumn(w, ms.map(m => m.avg))
  else {
    w.write(d, 3)
    writeInts(w, sums.map(s => Math.round(s * POW10[d])))
  }
  const body = w.bytes()
  const out = new Uint8Array(5 + body.length)
  out[0] = MARK
  new DataView(out.buffer).setUint32(1, ms.length)
  out.set(body, 5)
  return out
}

export function decodeMinutes (bytes: Uint8Array): MinuteAggregate[] {
  if (bytes.length < 5 || bytes[0] !== MARK) throw new RangeError('not an aggregate chunk')
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  const r = new BitReader(bytes.subarray(5))
  const t: number[] = []
  let [prevT, delta] = [0, 0]
  for (let i = 0; i < n; i++) {
    if (i === 0) prevT = unzigzag(r.readUint(51))
    else { delta += readDod(r); prevT += delta }
    t.push(prevT)
  }
  const [count, min, max, last] = [readColumn(r, n), readColumn(r, n), readColumn(r, n), readColumn(r, n)]
  let avg: number[]
  if (r.readBit() === 0) avg = readColumn(r, n)
  else {
    const p = POW10[r.read(3)]
    avg = readInts(r, n).map((m, i) => m / p / count[i])
  }
  return t.map((t, i) => ({ t, count: count[i], min: min[i], max: max[i], avg: avg[i], last: last[i] }))
}

function sumDecimals (sums: number[]): number {
  for (let d = 0; d <= MAX_DECIMALS; d++) {
    const p = POW10[d]
    const near = (s: number): boolean => Number.isFinite(s) && Math.abs(s * p) < 2 ** 50 &&
      Math.abs(Math.round(s * p) / p - s) <= SUM_TOLERANCE * Math.abs(s)
    if (sums.every(near)) return d
  }
  return -1
}

function writeColumn (w: BitWriter, values: number[]): void {
  const d = decimalsOf(values)
  w.write(d < 0 ? XOR_FLOATS : d, 3)
  if (d >= 0) { writeInts(w, values.map(v => scaled(v, d))); return }
  const x = new XorWriter()
  for (const v of values) x.write(w, v)
}

function readColumn (r: BitReader, n: number): number[] {
  const d = r.read(3)
  if (d !== XOR_FLOATS) return readInts(r, n).map(m => m / POW10[d])
  const x = new XorReader()
  return Array.from({ length: n }, () => x.read(r))
}

/** Integers as deltas ('0' flag) or delta-of-deltas ('1'), whichever is smaller in total (a counter's minima). */
function writeInts (w: BitWriter, ms: number[]): void {
  let [byDelta, byDod, widest] = [0, 0, 0]
  for (let i = 1; i < ms.length; i++) {
    const dd = Math.abs(ms[i] - ms[i - 1] - (i > 1 ? ms[i - 1] - ms[i - 2] : ms[0]))
    byDelta += Math.abs(ms[i] - ms[i - 1])
    byDod += dd
    if (dd > widest) widest = dd
  }
  // A delta-of-delta of scaled integers below 2^50 can reach 2^52: zigzagged, past the widest bucket.
  const dod = byDod < byDelta && widest < 2 ** 51
  w.write(dod ? 1 : 0, 1)
  let [prev, prevDelta] = [0, 0]
  for (const m of ms) {
    const delta = m - prev
    if (dod) writeDod(w, delta - prevDelta)
    else writeDelta(w, delta)
    prev = m
    prevDelta = delta
  }
}

function readInts (r: BitReader, n: number): number[] {
  const dod = r.readBit() === 1
  const out: number[] = []
  let [m, delta] = [0, 0]
  for (let i = 0; i < n; i++) {
    delta = dod ? delta + readDod(r) : readDelta(r)
    m += delta
    out.push(m)
  }
  return out
}

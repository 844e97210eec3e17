import type { BitReader, BitWriter } from './bits.js'

// A column of integers (|v| < 2^50) as one block-adaptive Rice code (after FLAC and Sprintz): the column is
// written as its values, deltas or delta-of-deltas (whichever are narrowest), divided by their greatest common
// divisor (a sensor's step), in blocks of 16. A block of zeros is one bit; any other block names its Rice
// parameter k, then each zigzagged value z as z >> k in unary and its k low bits. A smooth column (a quantized
// drift's minima, a regular clock) costs a fraction of a bit a value.

const BLOCK = 16
/** Quotients from here on are escaped: ESCAPE ones, then z in 53 bits. */
const ESCAPE = 24
const K_BITS = 6
/** The largest value a column takes: deltas of two stay below 2^51, delta-of-deltas below 2^52. */
export const MAX_COLUMN_INT = 2 ** 50
const POW2 = Array.from({ length: 64 }, (_, k) => 2 ** k)
const INV2 = POW2.map(p => 1 / p)

/** zigzag, for integers up to 2^52 in magnitude (no 32-bit shifts). */
function zz (v: number): number { return v >= 0 ? v * 2 : -v * 2 - 1 }
function unzz (z: number): number { return z % 2 === 0 ? z / 2 : -(z + 1) / 2 }
function bitLength (z: number): number { return z === 0 ? 0 : Math.floor(Math.log2(z)) + 1 }
/** About the bits a value takes (exact below 2^31). */
function width (v: number): number {
  const a = v < 0 ? -v : v
  return a < 2 ** 31 ? 32 - Math.clz32(a) : bitLength(a)
}

function gcd (a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/** One way to write a column: its order (0 values, 1 deltas, 2 delta-of-deltas), divisor, codes and cost. */
interface Plan { order: number, g: number, zs: Float64Array, ks: Int8Array, bits: number }

/** The cost of a block at Rice parameter k. */
function blockBits (zs: Float64Array, from: number, to: number, k: number): number {
  const inv = INV2[k]
  let bits = 0
  for (let i = from; i < to; i++) {
    const q = Math.floor(zs[i] * inv)
    bits += q >= ESCAPE ? ESCAPE + 53 : q + 1 + k
  }
  return bits
}

/**
 * Plans one order: the series (values before index `order` kept as they are: a delta-of-delta column starts
 * v0, v1 - v0), divided by its greatest common divisor, zigzagged; each block's k (-1 for a block of zeros) is
 * the better of the two around log2 of the block's mean.
 */
function plan (series: Float64Array, order: number): Plan {
  const n = series.length
  let g = 0
  for (let i = 0; i < n && g !== 1; i++) if (series[i] !== 0) g = gcd(g, Math.abs(series[i]))
  if (g === 0) g = 1
  const zs = new Float64Array(n)
  for (let i = 0; i < n; i++) zs[i] = zz(series[i] / g)
  const ks = new Int8Array(Math.ceil(Math.max(0, n - order) / BLOCK))
  let bits = g > 1 ? K_BITS + bitLength(g) : 0
  for (let i = 0; i < order && i < n; i++) bits += K_BITS + bitLength(zs[i])
  for (let from = order, b = 0; from < n; from += BLOCK, b++) {
    const to = Math.min(n, from + BLOCK)
    let sum = 0
    for (let i = from; i < to; i++) sum += zs[i]
    if (sum === 0) { ks[b] = -1; bits += 1; continue }
    const k = Math.min(52, bitLength(Math.floor(sum / (to - from))))
    const [here, below] = [blockBits(zs, from, to, k), k > 0 ? blockBits(zs, from, to, k - 1) : Infinity]
    ks[b] = below < here ? k - 1 : k
    bits += 1 + K_BITS + Math.min(here, below)
  }
  return { order, g, zs, ks, bits }
}

/** Writes integers below MAX_COLUMN_INT in magnitude (a RangeError otherwise: the caller checks first). */
export function writeIntColumn (w: BitWriter, vs: ArrayLike<number>): void {
  const n = vs.length
  const series = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const v = vs[i]
    if (!(Math.abs(v) < MAX_COLUMN_INT) || !Number.isInteger(v)) throw new RangeError('out of range')
    series[i] = v
  }
  // The order whose values are narrowest (a cheap estimate of their cost), then only that one planned.
  const widths = [0, 0, 0]
  for (let i = 0; i < n; i++) {
    const d1 = i >= 1 ? series[i] - series[i - 1] : series[i]
    const d2 = i >= 2 ? d1 - (series[i - 1] - series[i - 2]) : d1
    widths[0] += width(series[i])
    if (i >= 1) widths[1] += width(d1)
    if (i >= 2) widths[2] += width(d2)
  }
  const order = widths[2] < widths[1] && widths[2] < widths[0] ? 2 : widths[1] < widths[0] ? 1 : 0
  for (let o = 1; o <= order; o++) for (let i = n - 1; i >= o; i--) series[i] -= series[i - 1]
  const best = plan(series, order)
  const { g, zs, ks } = best
  w.write(order, 2)
  w.write(g > 1 ? 1 : 0, 1)
  if (g > 1) {
    w.write(bitLength(g), K_BITS)
    w.writeUint(g, bitLength(g))
  }
  // The first values of deltas (one) or delta-of-deltas (two) are the column's start, not like the rest.
  for (let i = 0; i < order && i < n; i++) {
    w.write(bitLength(zs[i]), K_BITS)
    w.writeUint(zs[i], bitLength(zs[i]))
  }
  for (let from = order, b = 0; from < n; from += BLOCK, b++) {
    const k = ks[b]
    w.write(k < 0 ? 0 : 1, 1)
    if (k < 0) continue
    w.write(k, K_BITS)
    const [to, unit, inv] = [Math.min(n, from + BLOCK), POW2[k], INV2[k]]
    for (let i = from; i < to; i++) {
      const q = Math.floor(zs[i] * inv)
      if (q >= ESCAPE) {
        w.write(2 ** ESCAPE - 1, ESCAPE)
        w.writeUint(zs[i], 53)
        continue
      }
      // q ones and a zero: 2^(q+1) - 2 in q + 1 bits (q < 24, so within one write).
      w.write(POW2[q + 1] - 2, q + 1)
      w.writeUint(zs[i] - q * unit, k)
    }
  }
}

export function readIntColumn (r: BitReader, n: number): number[] {
  const order = r.read(2)
  const g = r.readBit() === 1 ? r.readUint(r.read(K_BITS)) : 1
  const vs = new Array<number>(n)
  let i = 0
  for (; i < order && i < n; i++) vs[i] = unzz(r.readUint(r.read(K_BITS))) * g
  while (i < n) {
    const to = Math.min(n, i + BLOCK)
    if (r.readBit() === 0) {
      for (; i < to; i++) vs[i] = 0
      continue
    }
    const k = r.read(K_BITS)
    const unit = POW2[k]
    for (; i < to; i++) {
      let q = 0
      while (q < ESCAPE && r.readBit() === 1) q++
      vs[i] = unzz(q === ESCAPE ? r.readUint(53) : q * unit + r.readUint(k)) * g
    }
  }
  for (let from = order; from > 0; from--) {
    for (let j = from; j < n; j++) vs[j] += vs[j - 1]
  }
  return vs
}

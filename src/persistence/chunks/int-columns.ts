import type { BitReader, BitWriter } from './bits.js'

// A column of integers (|v| < 2^50) as one block-adaptive Rice code (after FLAC and Sprintz): the column is
// written as its values, deltas or delta-of-deltas (whichever are narrowest), divided by their greatest common
// divisor (a sensor's step), in blocks of 16. A block of zeros is one bit; any other block names its Rice
// parameter k, then each zigzagged value z as z >> k in unary and its k low bits. A smooth column (a quantized
// drift's minima, a regular clock) costs a fraction of a bit a value.
// Two ways to name k: in 6 bits (`fixed`, the first format: raw chunks version 3, aggregate chunks version 2), or
// against the k of the last block that had one (`relative`: the same in 2 bits, one up in 3, one down in 4, else
// 4 + 6 bits), since a column's spread changes slowly from block to block.

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

/** How a block's Rice parameter is named (see above). */
export type KCode = 'fixed' | 'relative'

/** One way to write a column: its order (0 values, 1 deltas, 2 delta-of-deltas), divisor, codes and cost. */
interface Plan { order: number, g: number, zs: Float64Array, ks: Int8Array, bits: number }

/** The bits that name a non-zero block's k after `prev` (the last named k, 0 at the start), its flag bit included. */
function kBits (code: KCode, k: number, prev: number): number {
  if (code === 'fixed') return 1 + K_BITS
  return k === prev ? 2 : k === prev + 1 ? 3 : k === prev - 1 ? 4 : 4 + K_BITS
}

function writeK (w: BitWriter, code: KCode, k: number, prev: number): void {
  if (code === 'fixed') { w.write(1, 1); w.write(k, K_BITS); return }
  if (k === prev) w.write(0b10, 2)
  else if (k === prev + 1) w.write(0b110, 3)
  else if (k === prev - 1) w.write(0b1110, 4)
  else { w.write(0b1111, 4); w.write(k, K_BITS) }
}

/** After a block's flag bit (1: not zeros), its k. */
function readK (r: BitReader, code: KCode, prev: number): number {
  if (code === 'fixed' || r.readBit() === 0) return code === 'fixed' ? r.read(K_BITS) : prev
  if (r.readBit() === 0) return prev + 1
  if (r.readBit() === 0) return prev - 1
  return r.read(K_BITS)
}

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
 * the cheapest, its naming included, of the two around log2 of the block's mean and the k before.
 */
function plan (series: Float64Array, order: number, code: KCode): Plan {
  const n = series.length
  let g = 0
  for (let i = 0; i < n && g !== 1; i++) if (series[i] !== 0) g = gcd(g, Math.abs(series[i]))
  if (g === 0) g = 1
  const zs = new Float64Array(n)
  for (let i = 0; i < n; i++) zs[i] = zz(series[i] / g)
  const ks = new Int8Array(Math.ceil(Math.max(0, n - order) / BLOCK))
  let bits = g > 1 ? K_BITS + bitLength(g) : 0
  for (let i = 0; i < order && i < n; i++) bits += K_BITS + bitLength(zs[i])
  let prev = 0
  for (let from = order, b = 0; from < n; from += BLOCK, b++) {
    const to = Math.min(n, from + BLOCK)
    let sum = 0
    for (let i = from; i < to; i++) sum += zs[i]
    if (sum === 0) { ks[b] = -1; bits += 1; continue }
    const k = Math.min(52, bitLength(Math.floor(sum / (to - from))))
    let [best, cost] = [k, blockBits(zs, from, to, k) + kBits(code, k, prev)]
    for (const c of [k - 1, prev]) {
      if (c < 0 || c === best || (c === prev && code === 'fixed')) continue
      const here = blockBits(zs, from, to, c) + kBits(code, c, prev)
      if (here < cost) [best, cost] = [c, here]
    }
    ks[b] = best
    prev = best
    bits += cost
  }
  return { order, g, zs, ks, bits }
}

/** Writes integers below MAX_COLUMN_INT in magnitude (a RangeError otherwise: the caller checks first). */
export function writeIntColumn (w: BitWriter, vs: ArrayLike<number>, code: KCode = 'fixed'): void {
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
  const best = plan(series, order, code)
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
  let prev = 0
  for (let from = order, b = 0; from < n; from += BLOCK, b++) {
    const k = ks[b]
    if (k < 0) { w.write(0, 1); continue }
    writeK(w, code, k, prev)
    prev = k
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

export function readIntColumn (r: BitReader, n: number, code: KCode = 'fixed'): number[] {
  const order = r.read(2)
  const g = r.readBit() === 1 ? r.readUint(r.read(K_BITS)) : 1
  const vs = new Array<number>(n)
  let i = 0
  for (; i < order && i < n; i++) vs[i] = unzz(r.readUint(r.read(K_BITS))) * g
  let prev = 0
  while (i < n) {
    const to = Math.min(n, i + BLOCK)
    if (r.readBit() === 0) {
      for (; i < to; i++) vs[i] = 0
      continue
    }
    const k = readK(r, code, prev)
    if (k > 52) throw new RangeError('int column: Rice parameter out of range')
    prev = k
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

import type { BitReader, BitWriter } from './bits.js'

// Variable-width integers of the chunk codecs: a prefix of ones ended by a zero picks the width, small first.

export function zigzag (d: number): number { return d >= 0 ? d * 2 : -d * 2 - 1 }
export function unzigzag (z: number): number { return z % 2 === 0 ? z / 2 : -(z + 1) / 2 }

/** Writes zigzag(v) in the first of `widths` it fits: a prefix of i ones and a zero (none after the last). */
function writeBucketed (w: BitWriter, v: number, widths: readonly number[]): void {
  if (v === 0) { w.write(0, 1); return }
  const z = zigzag(v)
  for (let i = 0; i < widths.length; i++) {
    const last = i === widths.length - 1
    if (last || z < 2 ** widths[i]) {
      // i + 1 ones, then a zero unless this is the last bucket.
      if (last) w.write(2 ** (i + 1) - 1, i + 1)
      else w.write(2 ** (i + 2) - 2, i + 2)
      w.writeUint(z, widths[i])
      return
    }
  }
}

function readBucketed (r: BitReader, widths: readonly number[]): number {
  if (r.readBit() === 0) return 0
  for (let i = 0; i < widths.length - 1; i++) if (r.readBit() === 0) return unzigzag(r.readUint(widths[i]))
  return unzigzag(r.readUint(widths[widths.length - 1]))
}

/** Delta-of-delta buckets (timestamps, ids): '0' for none; then 7, 9, 12, 32 or 53 bits of the zigzagged value. */
const DOD_WIDTHS = [7, 9, 12, 32, 53]
export function writeDod (w: BitWriter, dod: number): void { writeBucketed(w, dod, DOD_WIDTHS) }
export function readDod (r: BitReader): number { return readBucketed(r, DOD_WIDTHS) }

/**
 * Value deltas of decimal-scaled integers (a sensor's steps): '0' unchanged; then 3, 7, 12, 20 or 53 bits of the
 * zigzagged delta. Small steps (a counter's +0..3, a quantized drift's ±1) take 5 bits.
 */
const DELTA_WIDTHS = [3, 7, 12, 20, 53]
export function writeDelta (w: BitWriter, d: number): void { writeBucketed(w, d, DELTA_WIDTHS) }
export function readDelta (r: BitReader): number { return readBucketed(r, DELTA_WIDTHS) }

/**
 * A reading of -0 among decimals (a random walk crossing zero rounds to it): the widest bucket's all-ones value,
 * which no delta reaches (deltas stay below 2^51). readDelta answers it as NEGATIVE_ZERO_MARK.
 */
export function writeNegativeZero (w: BitWriter): void {
  w.write(0b11111, 5)
  w.writeUint(2 ** 53 - 1, 53)
}
export const NEGATIVE_ZERO_MARK = unzigzag(2 ** 53 - 1)

/** The largest decimal-scaled integer kept: deltas of two stay below 2^51, zigzagged below 2^52 (53 bits). */
const MAX_SCALED = 2 ** 50
export const MAX_DECIMALS = 6
export const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]

/**
 * The fewest decimals (0..6) with which every value is an integer m, |m| < 2^50, and m / 10^d gives the value
 * back bit for bit (so decoding is that division); -1 when there is none (a full double, NaN, ±Infinity, and -0
 * unless `negativeZero`: the caller then writes it with writeNegativeZero).
 */
export function decimalsOf (values: ArrayLike<number>, negativeZero = false): number {
  let d = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    while (!exactAt(v, d, negativeZero)) if (++d > MAX_DECIMALS) return -1
  }
  // A value exact at fewer decimals is exact at more, but for the size bound: checked again at the final d.
  for (let i = 0; i < values.length; i++) if (!exactAt(values[i], d, negativeZero)) return -1
  return d
}

function exactAt (v: number, d: number, negativeZero: boolean): boolean {
  const p = POW10[d]
  const m = Math.round(v * p)
  return m / p === v && Math.abs(m) < MAX_SCALED && (negativeZero || !Object.is(v, -0))
}

/** The integer a value is stored as at `d` decimals (decimalsOf said it is exact). */
export function scaled (v: number, d: number): number {
  return Math.round(v * POW10[d])
}

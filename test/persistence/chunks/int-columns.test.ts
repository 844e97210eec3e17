import t from 'tap'
import fc from 'fast-check'
import { BitReader, BitWriter } from '../../../src/persistence/chunks/bits.js'
import {
  type KCode, MAX_COLUMN_INT, readIntColumn, writeIntColumn
} from '../../../src/persistence/chunks/int-columns.js'

// Issue 18: the integer columns of the chunk codecs (block Rice code of values, deltas or delta-of-deltas, divided
// by their common divisor) give back every integer below 2^50 in magnitude, whatever the shape of the column.

function roundTrip (vs: number[], code: KCode = 'fixed'): number[] {
  const w = new BitWriter()
  writeIntColumn(w, vs, code)
  return readIntColumn(new BitReader(w.bytes()), vs.length, code)
}

const bytes = (vs: number[], code: KCode): number => {
  const w = new BitWriter()
  writeIntColumn(w, vs, code)
  return w.bytes().length
}

const limit = MAX_COLUMN_INT - 1
const anyInt = fc.oneof(
  fc.integer({ min: -limit, max: limit }),
  fc.integer({ min: -40, max: 40 }),
  fc.constantFrom(0, limit, -limit, 2 ** 32, -(2 ** 31))
)
/** Columns with a shape: a step (multiples), a ramp (regular deltas), a clock with jitter, long runs of zeros. */
const shaped = fc.tuple(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 1, max: 1000 }),
  fc.integer({ min: 0, max: 3 }), fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 300 }))
  .map(([start, step, shape, noise]) => noise.map((e, i) => shape === 0
    ? start + step * i + e
    : shape === 1 ? step * e : shape === 2 ? 0 : start + step * (e + 3) * i))

for (const code of ['fixed', 'relative'] as const) {
  t.test(`any column round-trips exactly (k named ${code})`, async t => {
    fc.assert(fc.property(fc.array(anyInt, { maxLength: 200 }), vs => {
      t.same(roundTrip(vs, code), vs.map(v => v === 0 ? 0 : v))
    }), { numRuns: 800 })
  })

  t.test(`shaped columns round-trip exactly (k named ${code})`, async t => {
    fc.assert(fc.property(shaped, vs => { t.same(roundTrip(vs, code), vs) }), { numRuns: 800 })
  })
}

t.test('naming k relative to the block before costs less on a column whose spread changes slowly', async t => {
  // A noisy 2-decimal walk, scaled: each block's k near the last one's.
  let v = 2000
  const walk = Array.from({ length: 3600 }, (_, i) => (v += ((i * 7919) % 101) - 50))
  const [fixed, relative] = [bytes(walk, 'fixed'), bytes(walk, 'relative')]
  t.ok(relative < fixed - 3600 / 16 * 3 / 8, `relative ${relative} B, fixed ${fixed} B`)
  t.same(roundTrip(walk, 'relative'), walk)
  // Every way of naming k: the same, one up, one down, and a jump (spreads of 1, 2, 1, 2^20, 0 then 3).
  const spreads = [1, 2, 1, 2 ** 20, 0, 3, 3, 7]
  const jumps = spreads.flatMap(s => Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? s : -s)))
  t.same(roundTrip(jumps, 'relative'), jumps)
})

t.test('a block that names a Rice parameter above 52 is refused', async t => {
  const w = new BitWriter()
  w.write(0, 2) // order 0
  w.write(0, 1) // no divisor
  w.write(1, 1) // a block that is not zeros
  w.write(0b1111, 4) // k by itself
  w.write(60, 6)
  for (let i = 0; i < 8; i++) w.write(0, 8)
  t.throws(() => readIntColumn(new BitReader(w.bytes()), 16, 'relative'), RangeError)
})

t.test('a regular clock and a column of zeros cost a fraction of a bit a value; out of range is refused', async t => {
  const clock = Array.from({ length: 3600 }, (_, i) => 1_767_225_600_000 + i * 1000)
  const w = new BitWriter()
  writeIntColumn(w, clock)
  t.ok(w.bytes().length < 40, `3600 regular timestamps: ${w.bytes().length} bytes`)
  t.same(roundTrip(clock), clock)
  const tens = Array.from({ length: 64 }, (_, i) => 800 + 10 * ((i * 7) % 13))
  t.same(roundTrip(tens), tens, 'multiples of ten (a divisor of the deltas)')
  t.throws(() => { writeIntColumn(new BitWriter(), [MAX_COLUMN_INT]) }, RangeError)
  t.throws(() => { writeIntColumn(new BitWriter(), [0.5]) }, RangeError)
  t.same(roundTrip([]), [])
})

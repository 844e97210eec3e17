import t from 'tap'
import fc from 'fast-check'
import { BitReader, BitWriter } from '../../../src/persistence/chunks/bits.js'
import { MAX_COLUMN_INT, readIntColumn, writeIntColumn } from '../../../src/persistence/chunks/int-columns.js'

// Issue 18: the integer columns of the chunk codecs (block Rice code of values, deltas or delta-of-deltas, divided
// by their common divisor) give back every integer below 2^50 in magnitude, whatever the shape of the column.

function roundTrip (vs: number[]): number[] {
  const w = new BitWriter()
  writeIntColumn(w, vs)
  return readIntColumn(new BitReader(w.bytes()), vs.length)
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

t.test('any column round-trips exactly', async t => {
  fc.assert(fc.property(fc.array(anyInt, { maxLength: 200 }), vs => {
    t.same(roundTrip(vs), vs.map(v => v === 0 ? 0 : v))
  }), { numRuns: 800 })
})

t.test('shaped columns round-trip exactly', async t => {
  fc.assert(fc.property(shaped, vs => { t.same(roundTrip(vs), vs) }), { numRuns: 800 })
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

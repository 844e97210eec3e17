import t from 'tap'
import fc from 'fast-check'
import { bits, fromBits } from '../../helpers/doubles.js'
import { decodeMinutes, encodeMinutes, type MinuteAggregate } from '../../../src/persistence/chunks/aggregates.js'

// Issue 18: a day of one series' minute aggregates in one BLOB. count, min, max and last come back bit for bit;
// the average within 1e-12 relative (stored as the minute's sum when the sums are short decimals).

/** Bit for bit, but any NaN for a NaN: an aggregate's NaN is never stored (SQLite has none; V8's double arrays
 * canonicalize it). */
function eq (a: number, b: number): boolean {
  return bits(a) === bits(b) || (Number.isNaN(a) && Number.isNaN(b))
}

function check (got: MinuteAggregate[], want: MinuteAggregate[]): boolean {
  if (got.length !== want.length) return false
  return want.every((w, i) => {
    const g = got[i]
    const avgOk = eq(g.avg, w.avg) || Math.abs(g.avg - w.avg) <= 1e-12 * Math.max(1, Math.abs(w.avg))
    return g.t === w.t && g.count === w.count && eq(g.min, w.min) && eq(g.max, w.max) && eq(g.last, w.last) && avgOk
  })
}

const anyDouble = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(fromBits)
const decimal = fc.tuple(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.integer({ min: 0, max: 6 }))
  .map(([m, d]) => m / 10 ** d)
const value = fc.oneof(decimal, anyDouble, fc.double(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 12.6))

/** Minutes of one day (sorted, distinct), values drawn from `v`, the average from readings of `v` when it can be. */
function minutes (v: fc.Arbitrary<number>): fc.Arbitrary<MinuteAggregate[]> {
  const minute = fc.tuple(fc.integer({ min: 1, max: 600 }), fc.array(v, { minLength: 1, maxLength: 4 }))
  return fc.uniqueArray(fc.integer({ min: 0, max: 1439 }), { maxLength: 300 }).chain(idx => fc.tuple(
    ...idx.sort((a, b) => a - b).map(i => minute
      .map(([count, vs]): MinuteAggregate => ({
        t: Date.UTC(2026, 0, 1) + i * 60_000,
        count,
        min: vs[0],
        max: vs[vs.length - 1],
        last: vs[Math.floor(vs.length / 2)],
        avg: vs.reduce((a, b) => a + b, 0) / vs.length
      })))
  ))
}

t.test('any minutes round-trip: count, min, max, last bit for bit, avg within 1e-12 relative', async t => {
  fc.assert(fc.property(minutes(value), ms => check(decodeMinutes(encodeMinutes(ms)), ms)), { numRuns: 1500 })
})

t.test('decimal minutes round-trip the same way', async t => {
  fc.assert(fc.property(minutes(decimal), ms => check(decodeMinutes(encodeMinutes(ms)), ms)), { numRuns: 1500 })
})

t.test('a day of a quantized signal and of a counter costs a few bytes a minute', async t => {
  const drift: MinuteAggregate[] = []
  const counter: MinuteAggregate[] = []
  for (let i = 0; i < 1440; i++) {
    const v = Math.round((20 + 5 * Math.sin(i / 200)) * 10) / 10
    drift.push({
      t: i * 60_000, count: 60, min: v - 0.1, max: Math.round((v + 0.2) * 10) / 10, last: v, avg: (v * 60 + 0.3) / 60
    })
    const c = 100_000 + i * 90 + (i % 7)
    counter.push({ t: i * 60_000, count: 60, min: c, max: c + 88, last: c + 88, avg: (c * 60 + 2670) / 60 })
  }
  for (const [name, ms] of [['drift', drift], ['counter', counter]] as const) {
    const b = encodeMinutes(ms)
    t.ok(check(decodeMinutes(b), ms), `${name} round-trips`)
    t.ok(b.length < 1440 * 6, `${name}: ${(b.length / 1440).toFixed(2)} B/minute`)
  }
})

t.test('extremes: the largest scaled integers, alternating signs, a single minute, none', async t => {
  const big = 2 ** 50 - 1
  const ms: MinuteAggregate[] = [big, -big, big, -big, 0]
    .map((v, i) => ({ t: i * 60_000, count: 1, min: v, max: v, last: v, avg: v }))
  t.ok(check(decodeMinutes(encodeMinutes(ms)), ms))
  t.ok(check(decodeMinutes(encodeMinutes(ms.slice(0, 1))), ms.slice(0, 1)))
  t.same(decodeMinutes(encodeMinutes([])), [])
  t.throws(() => decodeMinutes(new Uint8Array([2, 0, 0, 0, 0])), RangeError)
})

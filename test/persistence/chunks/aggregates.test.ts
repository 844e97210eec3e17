import t from 'tap'
import fc from 'fast-check'
import { bits, fromBits } from '../../helpers/doubles.js'
import { decodeMinutes, encodeMinutes, type MinuteAggregate } from '../../../src/persistence/chunks/aggregates.js'
import { BitWriter } from '../../../src/persistence/chunks/bits.js'
import { XorWriter } from '../../../src/persistence/chunks/floats.js'
import { writeIntColumn } from '../../../src/persistence/chunks/int-columns.js'

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
    t.ok(b.length < 1440 * 3, `${name}: ${(b.length / 1440).toFixed(2)} B/minute`)
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

t.test('version 1 day chunks (written before the Rice columns) still decode', async t => {
  // Encoded by the version 1 encoder (commit 754fc02): XOR floats for min, max and last, and all decimals.
  const xor = 'QQAAAAQAZt22qgAeAAHUwPAADqYHgAB1L8N4juci4PqPCZ598PsApZmZmZmZnwvqqqqqqqrwfwBDmZmZmZmbQACQ/aoiFox8P0Ap' +
    'MzMzMzMzgAB///////9g/gCHMzMzMzM2gAEh+1RELRh8P0ApMzMzMzMzgAA///////9g/gCFMzMzMzM2//HuyCEQ+eU='
  const decimals = 'QQAAAAQAZt22qgAeAAHUwPAADqYHgAB1L8N4juci4PqPCZ/AAAAAPQl4XB/U4T34AAAAB6E+C4Py3Ce/AAAAAPQnxTxJ1Bzx' +
    'PiSW34AAAAmJesA='
  const head: MinuteAggregate[] = [
    { t: 1767225600000, count: 60, min: 12.5, max: 12.7, avg: 12.6, last: 12.6 },
    { t: 1767225660000, count: 59, min: 12.4, max: 12.9, avg: 12.65, last: 12.9 },
    { t: 1767225780000, count: 1, min: -3, max: -3, avg: -3, last: -3 }
  ]
  const pi = { t: 1767225840000, count: 2, min: 0.1, max: Math.PI, avg: (0.1 + Math.PI) / 2, last: Math.PI }
  const odometer = { t: 1767225840000, count: 2, min: 100000, max: 100003, avg: 100001.5, last: 100003 }
  t.ok(check(decodeMinutes(Buffer.from(xor, 'base64')), [...head, pi]))
  t.ok(check(decodeMinutes(Buffer.from(decimals, 'base64')), [...head, odometer]))
  t.equal(encodeMinutes(head)[0], 0x43, 'new chunks are written as version 3')
})

t.test('a constant day costs a few bytes in all; floats keep their averages; a corrupt chunk is refused', async t => {
  const ms = Array.from({ length: 1440 }, (_, i): MinuteAggregate =>
    ({ t: 1767225600000 + i * 60_000, count: 60, min: 12.6, max: 12.6, avg: 12.6, last: 12.6 }))
  const b = encodeMinutes(ms)
  t.ok(check(decodeMinutes(b), ms))
  t.ok(b.length < 200, `${b.length} bytes for 1440 constant minutes`)
  const floats = ms.slice(0, 3).map(m => ({ ...m, min: Math.PI, max: Math.PI, last: Math.PI, avg: 12.6 }))
  t.ok(check(decodeMinutes(encodeMinutes(floats)), floats), 'floats with a decimal average')
  // Hand-made: min, max and last as XOR floats, then averages said to be sums from count × mid (never written).
  const w = new BitWriter()
  writeIntColumn(w, [0])
  writeIntColumn(w, [1])
  w.write(7, 3)
  for (let c = 0; c < 3; c++) new XorWriter().write(w, Math.PI)
  w.write(2, 2)
  w.write(0, 3)
  writeIntColumn(w, [1])
  const body = w.bytes()
  const bad = new Uint8Array([0x42, 0, 0, 0, 1, ...body])
  t.throws(() => decodeMinutes(bad), RangeError)
})

t.test('version 2 day chunks (k in 6 bits, min and max from last) still decode', async t => {
  // The version 2 encoder's output (commit 51a4bd8): 40 minutes of a 0.1-quantized wave, one short minute, a gap.
  const T = 1767225600000
  const want = Array.from({ length: 40 }, (_, i): MinuteAggregate => {
    const last = Math.round((20 + 5 * Math.sin(i / 4)) * 10) / 10
    const min = Math.round((last - ((i * 3) % 5) / 10) * 10) / 10
    const max = Math.round((last + ((i * 5) % 7) / 10) * 10) / 10
    const avg = Math.round(((min + max) / 2 + ((i % 3) - 1) / 20) * 1000) / 1000
    return { t: T + i * 60_000 + (i > 30 ? 60_000 : 0), count: i === 5 ? 31 : 60, min, max, avg, last }
  })
  const v2 = 'QgAAACiodTA1wW3ABSAAA0IfxCAA//z//oAAAAAOE5AXEEt2927UczIVVVVCSLbm3B3WsEIUsQKWIFLECFSxApYgUsQKhLEC' +
    'liIAJUOoWqAWqFqgFqhDtUAtULVALVC1YYBaoWkRKjW4C4twD63AXFuAuLcBcW8YBcW4C4twFxbgLi3AXFuAjXFuAuLcBcW4'
  t.ok(check(decodeMinutes(Buffer.from(v2, 'base64')), want))
  t.ok(check(decodeMinutes(encodeMinutes(want)), want), 'and the same minutes in version 3')
})

t.test('version 3 costs less than version 2 on a noisy 2-decimal walk (min and max from the range spanned)',
  async t => {
    let seed = 7
    const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647
    const ms: MinuteAggregate[] = []
    let v = 2000
    for (let m = 0; m < 1440; m++) {
      let [min, max, sum] = [Infinity, -Infinity, 0]
      for (let s = 0; s < 60; s++) {
        v += Math.floor(rnd() * 21) - 10
        ;[min, max, sum] = [Math.min(min, v), Math.max(max, v), sum + v]
      }
      const t0 = 1767225600000 + m * 60_000
      ms.push({ t: t0, count: 60, min: min / 100, max: max / 100, last: v / 100, avg: sum / 6000 })
    }
    const b = encodeMinutes(ms)
    t.ok(check(decodeMinutes(b), ms))
    // The version 2 encoder (commit 51a4bd8) wrote these minutes in 6,289 bytes; version 3 in 5,753.
    t.ok(b.length < 6000, `${b.length} bytes for a day of a noisy walk`)
  })

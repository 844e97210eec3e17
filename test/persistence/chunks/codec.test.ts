import t from 'tap'
import fc from 'fast-check'
import { bits, fromBits } from '../../helpers/doubles.js'
import {
  ChunkEncoder,
  decodeChunk,
  forEachReading,
  MAX_ABS_TS,
  type ChunkReading
} from '../../../src/persistence/chunks/codec.js'

function roundTrip (readings: ChunkReading[]): ChunkReading[] {
  const enc = new ChunkEncoder()
  for (const r of readings) enc.append(r)
  return decodeChunk(enc.bytes())
}

function same (got: ChunkReading[], want: ChunkReading[]): boolean {
  if (got.length !== want.length) return false
  for (let i = 0; i < want.length; i++) {
    const g = got[i]
    const w = want[i]
    if (
      g.id !== w.id ||
      g.ts !== w.ts ||
      bits(g.value) !== bits(w.value) ||
      g.valueText !== w.valueText ||
      g.unit !== w.unit ||
      g.dataType !== w.dataType
    ) { return false }
  }
  return true
}

// Any double, from its 64 bits: every NaN payload, both zeros, infinities, subnormals.
const anyDouble = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(fromBits)
const specialDouble = fc.constantFrom(
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072009e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.EPSILON,
  fromBits(0x7ff0000000000001n),
  fromBits(0xfff8000000000001n),
  fromBits(0x7ff7ffffffffffffn)
)
const double = fc.oneof(
  anyDouble,
  specialDouble,
  fc.double(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: 0, max: 50 }).map(k => k / 10)
)
const ts = fc.oneof(
  fc.integer({ min: -(MAX_ABS_TS - 1), max: MAX_ABS_TS - 1 }),
  fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 })
)
const unit = fc.constantFrom(null, '°C', 'V', '')
const text = fc.oneof(fc.string(), fc.constantFrom('on', 'off'), fc.string({ unit: 'binary', maxLength: 40 }))

const reading: fc.Arbitrary<ChunkReading> = fc.oneof(
  fc.record({
    id: ts,
    ts,
    value: double,
    valueText: fc.constant(null),
    unit,
    dataType: fc.constant('number' as const)
  }),
  fc.record({
    id: ts,
    ts,
    value: fc.constantFrom(0, 1),
    valueText: fc.constant(null),
    unit,
    dataType: fc.constant('boolean' as const)
  }),
  fc.record({ id: ts, ts, value: fc.constant(null), valueText: text, unit, dataType: fc.constant('string' as const) }),
  // Rows ingest never writes but telemetry_data can hold: kept as they are.
  fc.record({
    id: ts,
    ts,
    value: fc.option(double),
    valueText: fc.option(text),
    unit,
    dataType: fc.constantFrom('number' as const, 'boolean' as const, 'string' as const)
  })
)

t.test('any sequence of readings round-trips bit for bit, in the order appended', async t => {
  fc.assert(fc.property(fc.array(reading, { maxLength: 200 }), rs => same(roundTrip(rs), rs)), { numRuns: 2000 })
})

t.test('a series of doubles only (XOR windows reused and renewed) round-trips bit for bit', async t => {
  const series = fc.array(fc.oneof(anyDouble, specialDouble, double), { minLength: 1, maxLength: 500 })
  fc.assert(fc.property(series, fc.integer({ min: 0, max: 1_000_000 }), (values, start) => {
    const rs = values.map((value, i): ChunkReading => ({
      id: i,
      ts: start + i * 1000,
      value,
      valueText: null,
      unit: null,
      dataType: 'number'
    }))
    return same(roundTrip(rs), rs)
  }), { numRuns: 1000 })
})

t.test('timestamps in any order, including repeats, the extremes and jumps across the whole range', async t => {
  const extreme = fc.constantFrom(-(MAX_ABS_TS - 1), MAX_ABS_TS - 1, 0, -1, 1)
  fc.assert(fc.property(fc.array(fc.tuple(fc.oneof(ts, extreme), fc.oneof(ts, extreme)), { maxLength: 300 }), tss => {
    const rs = tss.map(([ts, id]): ChunkReading => ({
      id,
      ts,
      value: 1,
      valueText: null,
      unit: null,
      dataType: 'number'
    }))
    return same(roundTrip(rs), rs)
  }), { numRuns: 1000 })
})

t.test('special doubles one by one, each after every other', async t => {
  const specials = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    Number.MIN_VALUE,
    -Number.MIN_VALUE,
    Number.MAX_VALUE,
    fromBits(0x7ff0000000000001n),
    fromBits(0xfff8dead0000beefn),
    1,
    -1,
    21.3
  ]
  for (const a of specials) {
    for (const b of specials) {
      const rs: ChunkReading[] = [a, b, a, a, b].map((value, i) => ({
        id: i,
        ts: i,
        value,
        valueText: null,
        unit: 'x',
        dataType: 'number'
      }))
      t.ok(same(roundTrip(rs), rs), `${bits(a)} then ${bits(b)}`)
    }
  }
})

t.test('NaN payloads survive (when the platform keeps them in a plain object)', async t => {
  const nan = fromBits(0x7ff4000000000abcn)
  t.equal(
    bits(roundTrip([{ id: 1, ts: 1, value: nan, valueText: null, unit: null, dataType: 'number' }])[0].value),
    bits(nan)
  )
})

t.test('out-of-range or fractional timestamps are refused, not silently rounded', async t => {
  const enc = new ChunkEncoder()
  for (const bad of [MAX_ABS_TS, -MAX_ABS_TS, 1.5, NaN, Infinity]) {
    t.throws(
      () => enc.append({ id: 1, ts: bad, value: 1, valueText: null, unit: null, dataType: 'number' }),
      RangeError
    )
  }
  t.throws(() => enc.append({ id: 0.5, ts: 1, value: 1, valueText: null, unit: null, dataType: 'number' }), RangeError)
  t.equal(enc.count, 0)
  t.throws(
    () => enc.append({ id: 1, ts: 1, value: null, valueText: 'x'.repeat(70_000), unit: null, dataType: 'string' }),
    RangeError
  )
})

t.test('a truncated or foreign blob is refused', async t => {
  const enc = new ChunkEncoder()
  for (let i = 0; i < 100; i++) {
    enc.append({ id: i, ts: i * 1000, value: Math.sin(i), valueText: null, unit: null, dataType: 'number' })
  }
  const b = enc.bytes()
  t.throws(() => decodeChunk(b.subarray(0, b.length - 20)), RangeError)
  t.throws(() => decodeChunk(new Uint8Array([9, 0, 0, 0, 0])), RangeError)
  t.throws(() => decodeChunk(new Uint8Array([1])), RangeError)
})

t.test('forEachReading stops when asked; min and max ts follow the readings', async t => {
  const enc = new ChunkEncoder()
  for (const ts of [5000, 1000, 9000, 3000]) {
    enc.append({ id: ts, ts, value: ts, valueText: null, unit: null, dataType: 'number' })
  }
  t.equal(enc.minTs, 1000)
  t.equal(enc.maxTs, 9000)
  const seen: number[] = []
  forEachReading(enc.bytes(), r => { seen.push(r.ts); return seen.length < 2 })
  t.same(seen, [5000, 1000])
})

t.test('compact on regular series: a constant at 1 Hz costs about 3 bits a reading (timestamp, id, value)', async t => {
  const enc = new ChunkEncoder()
  for (let i = 0; i < 3600; i++) {
    enc.append({
      id: i * 100,
      ts: 1_700_000_000_000 + i * 1000,
      value: 12.6,
      valueText: null,
      unit: 'V',
      dataType: 'number'
    })
  }
  t.ok(enc.bytes().length < 3600 * 4 / 8 + 40, `${enc.bytes().length} bytes`)
})

// Version 2: exact decimals stored as scaled integers, detected per chunk.
const decimal = fc
  .tuple(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.integer({ min: 0, max: 6 }))
  .map(([m, d]) => m / 10 ** d)
const flags = (rs: ChunkReading[]): number => {
  const enc = new ChunkEncoder()
  for (const r of rs) enc.append(r)
  return enc.bytes()[5]
}

t.test('exact decimals (any scale up to 6 digits, mixed in one chunk) round-trip bit for bit as scaled ' +
  'integers', async t => {
  const starts = fc.integer({ min: 0, max: 1_000_000 })
  fc.assert(fc.property(fc.array(decimal, { minLength: 1, maxLength: 300 }), starts, (values, start) => {
    const rs = values.map((value, i): ChunkReading => ({
      id: i,
      ts: start + i * 1000,
      value,
      valueText: null,
      unit: 'u',
      dataType: 'number'
    }))
    return same(roundTrip(rs), rs) && (flags(rs) & 7) !== 7
  }), { numRuns: 2000 })
})

t.test('one value that is not a short exact decimal (NaN, ±Infinity) keeps the whole chunk in XOR floats; -0 does ' +
  'not', async t => {
  const odd = fc.oneof(
    specialDouble,
    anyDouble,
    fc.constant(0.1 + 0.2),
    fc.constant(1e-7),
    fc.constant(2 ** 52),
    fc.constant(-0)
  )
  fc.assert(fc.property(fc.array(decimal, { maxLength: 100 }), odd, fc.nat(), (values, v, at) => {
    const all = [...values]
    all.splice(at % (values.length + 1), 0, v)
    const rs = all.map((value, i): ChunkReading => ({
      id: i,
      ts: i,
      value,
      valueText: null,
      unit: null,
      dataType: 'number'
    }))
    const exact =
      Number.isFinite(v) &&
      [0, 1, 2, 3, 4, 5, 6].some(d => Math.round(v * 10 ** d) / 10 ** d === v && Math.abs(v * 10 ** d) < 2 ** 50)
    return same(roundTrip(rs), rs) && (exact || (flags(rs) & 7) === 7) && (!Object.is(v, -0) || (flags(rs) & 7) !== 7)
  }), { numRuns: 2000 })
})

t.test('-0 among decimals (a walk crossing zero) stays -0, and the scale stays integer', async t => {
  const values = [0.5, -0, -0, 0.01, 0, -0, -0.25, -0]
  fc.assert(fc.property(fc.array(fc.constantFrom(...values, -0.07, 3), { maxLength: 200 }), vs => {
    const rs = vs.map((value, i): ChunkReading => ({
      id: i,
      ts: i,
      value,
      valueText: null,
      unit: 'u',
      dataType: 'number'
    }))
    return same(roundTrip(rs), rs) && (rs.length === 0 || (flags(rs) & 7) !== 7)
  }), { numRuns: 500 })
})

t.test('a noisy 2-decimal analog signal costs under 2 bytes a reading; a chunk of one type and unit says so ' +
  'once', async t => {
  let v = 20
  const rs: ChunkReading[] = []
  for (let i = 0; i < 3600; i++) {
    v = Math.round((v + Math.sin(i * 7.1) * 0.5) * 100) / 100
    rs.push({
      id: i * 100 + 7,
      ts: 1_700_000_000_000 + i * 1000,
      value: v,
      valueText: null,
      unit: 'V',
      dataType: 'number'
    })
  }
  const enc = new ChunkEncoder()
  for (const r of rs) enc.append(r)
  const b = enc.bytes()
  t.equal(b[5], 2 | 8, 'two decimals, uniform')
  t.ok(b.length < 3600 * 2, `${b.length} bytes`)
  t.ok(same(decodeChunk(b), rs))
})

t.test('a version 1 chunk (written before the decimal mode) still decodes', async t => {
  const v1 = Buffer.from(
    '01000000060000000000fa00000000000052400055b0fd00a4cccccccccccf9f422880002aaaaaaaaaaaf1f3a40009b55a7fa2cccccc' +
      'cccccdd76f11c800137b77800004e222154008000000000000ebb787f0003373ab6b132b9500000000000000020002f0',
    'hex'
  )
  const want: ChunkReading[] = [
    { id: 10, ts: 1000, value: 12.6, valueText: null, unit: 'V', dataType: 'number' },
    { id: 20, ts: 2000, value: 12.7, valueText: null, unit: 'V', dataType: 'number' },
    { id: 30, ts: 2500, value: NaN, valueText: null, unit: 'mV', dataType: 'number' },
    { id: 31, ts: 1500, value: null, valueText: 'on', unit: null, dataType: 'string' },
    { id: 40, ts: 3000, value: 1, valueText: null, unit: null, dataType: 'boolean' },
    { id: 41, ts: 3000, value: 2, valueText: 'x', unit: null, dataType: 'number' }
  ]
  t.ok(same(decodeChunk(new Uint8Array(v1)), want))
  t.ok(same(roundTrip(want), want), 'and the same readings in version 2')
})

t.test('a version 2 chunk of decimals (written before the Rice columns) still decodes; new ones are version 4',
  async t => {
    const T = 1767225600000
    const want: ChunkReading[] = [12.6, 12.6, 12.65, 12.5, 13, 0, 12.6].map((value, i) => ({
      id: 1000 + i * 100, ts: T + i * 1000 + (i === 3 ? 7 : 0), value, valueText: null, unit: 'V', dataType: 'number'
    }))
    const v2 = Buffer.from('AgAAAAcKIAAqwAzbttVAAAAAAAAD6HTsefQzIMKw5juNtkw51E7p2A==', 'base64')
    t.equal(v2[0], 2)
    t.ok(same(decodeChunk(new Uint8Array(v2)), want))
    const enc = new ChunkEncoder()
    for (const r of want) enc.append(r)
    const v4 = enc.bytes()
    t.equal(v4[0], 4, 'numbers of one unit, all decimals: columns')
    t.ok(same(decodeChunk(v4), want))
    const booleans = want.map((r, i) => ({ ...r, value: i % 2, dataType: 'boolean' as const }))
    const b = new ChunkEncoder()
    for (const r of booleans) b.append(r)
    t.equal(b.bytes()[0], 4, 'booleans too')
    t.ok(same(decodeChunk(b.bytes()), booleans))
    const mixed = new ChunkEncoder()
    for (const r of [...want, { ...want[0], id: 9, unit: 'mV' }]) mixed.append(r)
    t.equal(mixed.bytes()[0], 2, 'two units: version 2')
  })

t.test('a version 3 chunk (columns, each k in 6 bits) still decodes', async t => {
  // Encoded by the version 3 encoder (commit 51a4bd8): a 2-decimal signal, a jittered clock, interleaved ids.
  const T = 1767225600000
  const want: ChunkReading[] = Array.from({ length: 40 }, (_, i) => ({
    id: 5000 + i * 100,
    ts: T + i * 1000 + ((i * 7) % 5),
    value: Math.round((12 + Math.sin(i / 3) * 2 + ((i * 13) % 7) / 10) * 100) / 100,
    valueText: null,
    unit: 'V',
    dataType: 'number'
  }))
  const v3 = Buffer.from('AwAAACgKIAAq0qzbttVAAL+pCGdZ0M6zoZ1nQhZ1nQzrOhnWdDMOUZBGVHyD5AoQyWAj6jZc6jUq09VnQogs' +
    'gVbihSRWjAUeh8+bLhwT/I8FiJIjLFWwtRQM', 'base64')
  t.equal(v3[0], 3)
  t.ok(same(decodeChunk(new Uint8Array(v3)), want))
  t.ok(same(roundTrip(want), want), 'and the same readings in version 4')
})

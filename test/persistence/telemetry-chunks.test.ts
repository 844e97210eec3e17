import 'reflect-metadata'
import t from 'tap'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/loader.js'
import { openDatabase } from '../../src/persistence/database.js'
import { nativeSqlite } from '../../src/persistence/sqlite/index.js'
import { TelemetryRepository, type TelemetryRow } from '../../src/persistence/repositories/telemetry.js'
import {
  MAX_MERGED_READINGS, TelemetryChunkRepository
} from '../../src/persistence/repositories/telemetry-chunks.js'
import { decodeChunk } from '../../src/persistence/chunks/codec.js'
import {
  MIRROR_MAX_ROWS, RANGE_IDS, type HeadColumns, type RangeIds
} from '../../src/persistence/repositories/head-mirror.js'

// Issue 18: the head is closed in slices of whole minutes (bounded, never across an hour), and an hour's slices of
// a series are merged into one chunk once the hour is over; every reading is in exactly one place throughout.

const silent = pino({ level: 'silent' })
const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000
const HOUR = 3_600_000

type Native = NonNullable<ReturnType<typeof nativeSqlite>>
interface ChunkRow {
  id: number
  device_id: number
  key: string
  min_ts: number
  max_ts: number
  count: number
  data: Uint8Array
}
interface Setup { repo: TelemetryRepository, chunks: TelemetryChunkRepository, native: Native, deviceId: number }

/** `shared`: the inserts and the closes share one head mirror, as the gateway's repositories do. */
async function setup (t: Tap.Test, shared = false): Promise<Setup> {
  const config = loadConfig({ env: {}, overrides: { dataDir: t.testdir(), telemetry: { chunkStore: true } } })
  const db = await openDatabase(config, silent)
  t.teardown(() => db.close())
  const native = nativeSqlite(db.dataSource)
  if (native === undefined) throw new Error('SQLite expected')
  native.prepare(`INSERT INTO devices (uuid, name, type, created_at, updated_at)
    VALUES ('chunk-dev', 'c', 'sensor', 0, 0)`).run()
  const chunks = new TelemetryChunkRepository(db.dataSource)
  const repo = new TelemetryRepository(db.dataSource, shared ? chunks : undefined)
  const deviceId = await repo.deviceId('chunk-dev') as number
  return { repo, chunks, native, deviceId }
}

/** Two keys at 1 Hz from `from` for `seconds`, inserted interleaved (ids alternate between the keys). */
function readings (deviceId: number, from: number, seconds: number): TelemetryRow[] {
  const rows: TelemetryRow[] = []
  for (let s = 0; s < seconds; s++) {
    for (const key of ['a', 'b']) {
      const value = key === 'a' ? Math.round((20 + Math.sin(s / 300)) * 10) / 10 : s
      rows.push({ deviceId, key, value, valueText: null, unit: 'u', dataType: 'number', ts: from + s * 1000 })
    }
  }
  return rows
}

function everyReading (native: Native): Array<[number, number]> {
  const head = native.prepare('SELECT id, ts FROM telemetry_data').all() as Array<{ id: number, ts: number }>
  const out: Array<[number, number]> = head.map(r => [r.id, r.ts])
  for (const c of native.prepare('SELECT data FROM telemetry_chunks').all() as ChunkRow[]) {
    for (const r of decodeChunk(c.data)) out.push([r.id, r.ts])
  }
  return out.sort((a, b) => a[0] - b[0])
}

t.test('slices: whole minutes, at most maxRows (a minute at least), never past the hour or the cutoff', async t => {
  const { repo, chunks, native, deviceId } = await setup(t)
  repo.insertManySync(readings(deviceId, T0 + HOUR - 3 * MIN, 10 * MIN / 1000))
  const all = everyReading(native)
  await t.rejects(chunks.closeOne(T0 + 1), RangeError)
  t.equal(await chunks.closeOne(T0 + HOUR + 5 * MIN, 250), 240, 'two minutes of two keys (250 rows end mid-minute)')
  t.equal(await chunks.closeOne(T0 + HOUR + 5 * MIN, 50), 120, 'one whole minute, though more than 50 rows')
  t.equal(await chunks.closeOne(T0 + HOUR + 5 * MIN, 100_000), 600, 'the next hour, up to the cutoff')
  t.equal(await chunks.closeOne(T0 + HOUR + 5 * MIN, 100_000), 0, 'nothing older is left')
  const rows = native.prepare('SELECT key, min_ts, max_ts, count FROM telemetry_chunks ORDER BY min_ts, key')
    .all() as ChunkRow[]
  t.same(rows.map(r => [r.key, r.min_ts - T0, r.max_ts - T0, r.count]), [
    ['a', HOUR - 3 * MIN, HOUR - MIN - 1000, 120], ['b', HOUR - 3 * MIN, HOUR - MIN - 1000, 120],
    ['a', HOUR - MIN, HOUR - 1000, 60], ['b', HOUR - MIN, HOUR - 1000, 60],
    ['a', HOUR, HOUR + 5 * MIN - 1000, 300], ['b', HOUR, HOUR + 5 * MIN - 1000, 300]
  ])
  const head = native.prepare('SELECT COUNT(*) AS n FROM telemetry_data').get() as { n: number }
  t.equal(head.n, 2 * 60 * 2, 'the last two minutes stay in the head')
  t.same(everyReading(native), all, 'every reading in exactly one place')
  const minutes = native.prepare('SELECT COUNT(*) AS n FROM telemetry_aggregates').get() as { n: number }
  t.equal(minutes.n, 8 * 2, 'one aggregate per closed minute and key')
})

t.test('merge: an hour over becomes one chunk per series, in insertion order; late readings merge again', async t => {
  const { repo, chunks, native, deviceId } = await setup(t)
  repo.insertManySync(readings(deviceId, T0, HOUR / 1000 + 120))
  const all = everyReading(native)
  for (let n = -1; n !== 0;) n = await chunks.closeOne(T0 + HOUR + 2 * MIN, 1000)
  const parts = (native.prepare('SELECT COUNT(*) AS n FROM telemetry_chunks').get() as { n: number }).n
  t.ok(parts > 4, `the hour was closed in slices (${parts} chunks)`)
  await t.rejects(chunks.mergeOne(T0 + MIN), RangeError)
  let merged = 0
  for (let n = -1; n !== 0;) { n = await chunks.mergeOne(T0 + HOUR, 3600); merged += n }
  t.equal(merged, 7200, 'both keys of the first hour')
  const rows = native.prepare('SELECT * FROM telemetry_chunks ORDER BY min_ts, key').all() as ChunkRow[]
  const first = rows.filter(r => r.max_ts < T0 + HOUR)
  t.same(first.map(r => [r.key, r.min_ts - T0, r.max_ts - T0, r.count]),
    [['a', 0, HOUR - 1000, 3600], ['b', 0, HOUR - 1000, 3600]], 'one chunk per key for the hour')
  const ids = decodeChunk(first[0].data).map(r => r.id)
  t.same(ids, [...ids].sort((a, b) => a - b), 'readings in insertion order')
  t.ok(first[0].data.length < 3600, `${first[0].data.length} bytes for an hour of a quantized drift`)
  t.ok(rows.filter(r => r.min_ts >= T0 + HOUR).length === 2, 'the hour under way is not merged')
  t.same(everyReading(native), all, 'every reading in exactly one place after the merge')

  // A late reading of the merged hour: a chunk of its own, merged into the hour's at the next pass.
  repo.insertManySync([{ deviceId, key: 'a', value: 99, valueText: null, unit: 'u', dataType: 'number', ts: T0 + 5 }])
  for (let n = -1; n !== 0;) n = await chunks.closeOne(T0 + HOUR + 2 * MIN, 1000)
  t.equal(await chunks.mergeOne(T0 + HOUR, 3600), 3601)
  const a = native.prepare('SELECT data FROM telemetry_chunks WHERE key = ? AND max_ts < ?').all('a', T0 + HOUR) as
    ChunkRow[]
  t.equal(a.length, 1)
  t.equal(decodeChunk(a[0].data).length, 3601)
  t.equal(await chunks.mergeOne(T0 + HOUR, 3600), 0, 'nothing left to merge')
})

t.test('merge: a series hour over the merge limit keeps its slices', async t => {
  const { chunks, native, deviceId } = await setup(t)
  const insert = native.prepare(`INSERT INTO telemetry_chunks (device_id, key, min_ts, max_ts, count, data)
    VALUES (?, 'big', ?, ?, ?, x'00')`)
  insert.run(deviceId, T0, T0 + MIN, MAX_MERGED_READINGS)
  insert.run(deviceId, T0 + 2 * MIN, T0 + 3 * MIN, 1)
  t.equal(await chunks.mergeOne(T0 + HOUR), 0)
  t.equal((native.prepare('SELECT COUNT(*) AS n FROM telemetry_chunks').get() as { n: number }).n, 2)
})

t.test('a new file gets 1 KB pages with the chunk store, 4 KB without; an existing file keeps its own', async t => {
  const pageSize = async (dataDir: string, chunkStore: boolean): Promise<number> => {
    const db = await openDatabase(loadConfig({ env: {}, overrides: { dataDir, telemetry: { chunkStore } } }), silent)
    try {
      return nativeSqlite(db.dataSource)?.pragma('page_size', { simple: true }) as number
    } finally { await db.close() }
  }
  const dir = t.testdir({ rows: {}, chunks: {} })
  t.equal(await pageSize(`${dir}/chunks`, true), 1024, 'chunk store: 1 KB pages')
  t.equal(await pageSize(`${dir}/rows`, false), 4096, 'row store: 4 KB pages')
  t.equal(await pageSize(`${dir}/rows`, true), 4096, 'a 4 KB file turned to the chunk store keeps 4 KB pages')
  t.equal(await pageSize(`${dir}/chunks`, false), 1024, 'and a 1 KB file turned back keeps 1 KB')
})

// The head mirror: the close takes a slice from the rows the insert path committed when the head's ids over the
// range agree, and from the head otherwise; either way the chunks and aggregates are the head's.

const mirrored = async (t: Tap.Test): Promise<Setup> => await setup(t, true)

/** Every chunk's readings and every aggregate, for comparing two databases. */
function contents (native: Native): unknown {
  const chunks = (native.prepare('SELECT key, data FROM telemetry_chunks ORDER BY key, min_ts').all() as ChunkRow[])
    .map(c => [c.key, decodeChunk(c.data).map(r => [r.id, r.ts, r.value, r.valueText, r.unit, r.dataType])])
  const aggregates = native.prepare(`SELECT key, bucket_start, count, min, max, avg, last FROM telemetry_aggregates
    ORDER BY key, bucket_start`).raw(true).all()
  return { chunks, aggregates }
}

t.test('mirror: the same chunks and aggregates as read from the head (-0, NaN, late readings, before it started)',
  async t => {
    const [plain, fast] = [await setup(t), await mirrored(t)]
    const odd: TelemetryRow[] = [-0, NaN, 0, Infinity, -1.5].map((value, i) =>
      ({ deviceId: 0, key: 'odd', value, valueText: null, unit: 'u', dataType: 'number', ts: T0 + 3 * MIN + i * 1000 }))
    const text: TelemetryRow = {
      deviceId: 0, key: 'gear', value: null, valueText: 'D', unit: null, dataType: 'string', ts: T0 + 3 * MIN + 7
    }
    const batches = (deviceId: number): TelemetryRow[][] => [
      readings(deviceId, T0, 2 * 60), // before the mirror starts (no close yet)
      readings(deviceId, T0 + 2 * MIN, 3 * 60),
      [...odd, text].map(r => ({ ...r, deviceId })),
      [{ deviceId, key: 'a', value: 7, valueText: null, unit: 'u', dataType: 'number', ts: T0 + 5 }] // late
    ]
    for (const s of [plain, fast]) {
      const [early, ...rest] = batches(s.deviceId)
      s.repo.insertManySync(early)
      t.equal(await s.chunks.closeOne(T0 + MIN), 120, 'the first minute, read from the head')
      for (const b of rest) s.repo.insertManySync(b)
      for (let n = -1; n !== 0;) n = await s.chunks.closeOne(T0 + 10 * MIN, 200)
    }
    t.ok(fast.repo.chunks === fast.chunks && plain.repo.chunks !== plain.chunks, 'one mirror shared, one never fed')
    t.same(contents(fast.native), contents(plain.native), 'chunks and aggregates are the same')
    const odds = decodeChunk((fast.native.prepare("SELECT data FROM telemetry_chunks WHERE key = 'odd'").get() as
      ChunkRow).data).map(r => r.value)
    t.same(odds, [0, null, 0, Infinity, -1.5], '-0 and NaN as SQLite keeps them (0 and NULL)')
    t.ok(Object.is(odds[0], 0), 'not -0')
    t.equal((fast.native.prepare('SELECT COUNT(*) AS n FROM telemetry_data').get() as { n: number }).n, 0)
  })

t.test('mirror: used when the ids agree, bypassed when the head changed behind it', async t => {
  const { repo, chunks, native, deviceId } = await mirrored(t)
  await chunks.closeOne(T0) // starts the mirror
  repo.insertManySync(readings(deviceId, T0, 4 * 60))
  const ids = (start: number, end: number): RangeIds => native.prepare(RANGE_IDS).get(start, end) as RangeIds
  // Taken from the mirror: a value changed there (ids intact) is what the chunk gets.
  const first = chunks.mirror.slice(T0, T0 + MIN, ids(T0, T0 + MIN)) as HeadColumns[]
  t.equal(first.length, 120)
  const marked = first.find(r => r[2] === 'b') as HeadColumns
  marked[4] = 12345
  t.equal(await chunks.closeOne(T0 + MIN), 120)
  const values = (key: string): unknown[] => (native.prepare(
    'SELECT data FROM telemetry_chunks WHERE key = ? ORDER BY min_ts').all(key) as ChunkRow[])
    .flatMap(c => decodeChunk(c.data).map(r => r.value))
  t.ok(values('b').includes(12345), 'the slice came from the mirror')
  t.same(chunks.mirror.slice(T0, T0 + MIN, ids(T0, T0 + MIN)), [], 'and the closed minute is forgotten')

  // A row gone from the head (its device deleted): the mirror disagrees, the head is read.
  native.prepare("DELETE FROM telemetry_data WHERE key = 'a' AND ts = ?").run(T0 + MIN + 1000)
  t.equal(chunks.mirror.slice(T0 + MIN, T0 + 2 * MIN, ids(T0 + MIN, T0 + 2 * MIN)), undefined)
  t.equal(await chunks.closeOne(T0 + 2 * MIN), 119, 'the 119 rows of the head, not the 120 of the mirror')
  // A row inserted by another path: the head is read, the row is in its chunk.
  native.prepare(`INSERT INTO telemetry_data (device_id, key, value, value_text, unit, data_type, ts)
    VALUES (?, 'c', 1, NULL, 'u', 'number', ?)`).run(deviceId, T0 + 2 * MIN + 500)
  t.equal(await chunks.closeOne(T0 + 3 * MIN), 121)
  t.same(values('c'), [1])
  // A batch rolled back inside someone else's transaction is not mirrored.
  const before = ids(T0 + 3 * MIN, T0 + 4 * MIN)
  t.throws(() => native.transaction(() => {
    repo.insertManySync(readings(deviceId, T0 + 3 * MIN + 100, 5))
    throw new Error('rolled back')
  })())
  t.same(chunks.mirror.slice(T0 + 3 * MIN, T0 + 4 * MIN, before)?.length, 120, 'the mirror holds the committed rows')
  t.equal(await chunks.closeOne(T0 + 4 * MIN), 120)
  t.equal((native.prepare('SELECT COUNT(*) AS n FROM telemetry_data').get() as { n: number }).n, 0)
})

t.test('mirror: bounded; past its limit the oldest minutes are forgotten and read from the head', async t => {
  const { repo, chunks, native, deviceId } = await mirrored(t)
  await chunks.closeOne(T0)
  const perMinute = 120
  const minutes = Math.ceil(MIRROR_MAX_ROWS / perMinute) + 5
  const rows = readings(deviceId, T0, minutes * 60)
  for (let i = 0; i < rows.length; i += 5000) repo.insertManySync(rows.slice(i, i + 5000))
  const ids = (m: number): RangeIds => native.prepare(RANGE_IDS).get(T0 + m * MIN, T0 + (m + 1) * MIN) as RangeIds
  t.equal(chunks.mirror.slice(T0, T0 + MIN, ids(0)), undefined, 'the first minute was forgotten')
  t.equal(chunks.mirror.slice(T0 + (minutes - 1) * MIN, T0 + minutes * MIN, ids(minutes - 1))?.length, perMinute,
    'the last is kept')
  let closed = 0
  for (let n = -1; n !== 0;) { n = await chunks.closeOne(T0 + minutes * MIN, 20_000); closed += n }
  t.equal(closed, rows.length, 'every reading closed')
  t.equal(everyReading(native).length, rows.length)
})

t.test('merge passes look only at new chunks and newly ended hours, and miss no hour that ends later', async t => {
  const { repo, chunks, native, deviceId } = await setup(t)
  const count = (): number => (native.prepare('SELECT COUNT(*) AS n FROM telemetry_chunks').get() as { n: number }).n
  // The first hour and half of the second, closed in slices.
  repo.insertManySync(readings(deviceId, T0, (HOUR + 30 * MIN) / 1000))
  for (let n = -1; n !== 0;) n = await chunks.closeOne(T0 + HOUR + 30 * MIN, 2000)
  for (let n = -1; n !== 0;) n = await chunks.mergeOne(T0 + HOUR, 100_000)
  t.equal(await chunks.mergeOne(T0 + HOUR, 100_000), 0, 'a pass with nothing to merge (the second hour not over)')
  const slices = count()
  t.ok(slices > 4, `${slices} chunks: the first hour merged, the second in slices`)
  // The second hour ends; its slices were written before that empty pass, and are merged all the same.
  t.equal(await chunks.mergeOne(T0 + 2 * HOUR, 100_000), 2 * 30 * 60, 'the second hour, once over')
  t.equal(count(), 4, 'one chunk per key and hour')
  t.equal(await chunks.mergeOne(T0 + 2 * HOUR, 100_000), 0)
  // A late reading of the first hour after the empty pass: a newer chunk, its hour merged again.
  repo.insertManySync([{ deviceId, key: 'b', value: 1, valueText: null, unit: 'u', dataType: 'number', ts: T0 + 9 }])
  t.equal(await chunks.closeOne(T0 + 2 * HOUR), 1)
  t.equal(await chunks.mergeOne(T0 + 2 * HOUR, 100_000), 3601)
  t.equal(count(), 4)
})

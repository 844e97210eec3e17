import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startApp, type RunningApp } from '../helpers/app.js'
import { createUser, login, provisionDevice } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { RetentionService } from '../../src/services/retention.js'
import type { TelemetryRow } from '../../src/persistence/repositories/telemetry.js'

// Issue 18, acceptance 3: every telemetry route answers the same from the row store (telemetry.chunkStore off)
// and the chunk store (on) over one data set, across the head/chunk boundary (the hour under way stays in the
// head) and the raw/aggregate boundary, with readings out of order and late ones.
const DAY = 86_400_000
const HOUR = 3_600_000
const MIN = 60_000
// Raw readings are kept 1 day here (7 by default), so the data set stays small. NOW - 1 day is an hour boundary:
// the row store folds at that minute and the chunk store drops the chunks of the hours before it, so both keep
// the same raw readings (the chunk store drops whole chunks, an hour each).
const RAW_DAYS = 1
const NOW = Date.UTC(2026, 0, 9, 0, 0, 10)
const FROM = NOW - RAW_DAYS * DAY - 6 * HOUR - 30 * MIN
const STEP = 20_000

/** 30 hours of 5 keys every 20 s: drifting numbers, a counter, a boolean, a text, a unit that changes. */
function generate (deviceId: number): TelemetryRow[] {
  let seed = 7
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const rows: TelemetryRow[] = []
  let counter = 1000
  let n = 0
  for (let ts = FROM; ts < NOW; ts += STEP) {
    n++
    // Every 97th tick comes 7 minutes late (another minute, sometimes another hour); every 50th repeats a ts.
    const at = n % 97 === 0 ? ts - 7 * MIN : n % 50 === 0 ? ts - STEP : ts
    counter += Math.floor(rnd() * 4)
    rows.push({
      deviceId,
      key: 'temp',
      value: Math.round((20 + 5 * Math.sin(ts / (6 * HOUR)) + rnd()) * 10) / 10,
      valueText: null,
      unit: '°C',
      dataType: 'number',
      ts: at
    })
    rows.push({ deviceId, key: 'odo', value: counter, valueText: null, unit: null, dataType: 'number', ts: at })
    rows.push({
      deviceId,
      key: 'door',
      value: rnd() < 0.1 ? 1 : 0,
      valueText: null,
      unit: null,
      dataType: 'boolean',
      ts: at
    })
    if (n % 3 === 0) {
      rows.push({
        deviceId,
        key: 'gear',
        value: null,
        valueText: ['P', 'R', 'N', 'D', 'é✓'][Math.floor(rnd() * 5)],
        unit: null,
        dataType: 'string',
        ts: at
      })
    }
    rows.push({
      deviceId,
      key: 'volt',
      value: 12 + rnd(),
      valueText: null,
      unit: n % 500 < 250 ? 'V' : 'mV',
      dataType: 'number',
      ts: at
    })
  }
  return rows
}

interface Store { app: RunningApp, uuid: string, token: string, deviceId: number, retention: RetentionService }

async function store (t: Tap.Test, chunkStore: boolean): Promise<Store> {
  // t.testdir() is one directory per test: each store gets its own below it.
  const dataDir = join(t.testdir(), chunkStore ? 'chunks' : 'rows')
  mkdirSync(dataDir)
  // 100 readings a chunk at most: the 180 readings of a series' hour fill two chunks, read side by side.
  const app = await startApp(t, {
    dataDir,
    config: { telemetry: { chunkStore, rawRetentionDays: RAW_DAYS, retentionChunkRows: 100 } }
  })
  const { uuid } = await provisionDevice(app, { uuid: 'stores-device' })
  const viewer = await createUser(app, { role: 'viewer' })
  const token = await login(app, viewer.username, viewer.password)
  const deviceId = await app.gateway.services.telemetry.repo.deviceId(uuid) as number
  return {
    app,
    uuid,
    token,
    deviceId,
    retention: new RetentionService({ ...app.gateway.services, clock: new FakeClock(NOW) })
  }
}

async function get (s: Store, path: string): Promise<any> {
  const res = await fetch(`${s.app.httpUrl}/api/v1/telemetry/${s.uuid}${path}`, {
    headers: { authorization: `Bearer ${s.token}` }
  })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return await res.json()
}

/** Every page of a raw query, following the cursors. */
async function allPages (s: Store, query: string): Promise<unknown[]> {
  const pages: unknown[] = []
  let cursor: string | null = null
  do {
    const page: { items: unknown[]; next: string | null } = await get(
      s,
      `?${query}${cursor === null ? '' : `&cursor=${cursor}`}`
    )
    pages.push(page)
    cursor = page.next
  } while (cursor !== null)
  return pages
}

/** Series answers agree exactly but for the average, which the stores sum in different orders. */
function sameSeries (t: Tap.Test, a: any, b: any, what: string): void {
  const strip = (p: any): unknown => ({ ...p, avg: undefined })
  t.same(b.points.map(strip), a.points.map(strip), `${what}: t, count, min, max, last`)
  const worst = a.points.reduce(
    (w: number, p: any, i: number) => Math.max(w, Math.abs(p.avg - b.points[i]?.avg) / Math.max(1, Math.abs(p.avg))),
    0
  )
  t.ok(worst < 1e-12, `${what}: avg within 1e-12 relative (${worst})`)
}

async function compare (t: Tap.Test, rows: Store, chunks: Store, label: string): Promise<void> {
  t.same(await get(chunks, ''), await get(rows, ''), `${label}: latest`)
  const headEdge = Math.floor((NOW - 5 * MIN) / HOUR) * HOUR
  const retentionEdge = NOW - RAW_DAYS * DAY
  // Before the retention edge the chunk store has minute aggregates in day chunks only, after it raw chunks too:
  // the third range spans both; the first series here holds a late reading of a compacted minute.
  const ranges = [
    [FROM, NOW + HOUR],
    [headEdge - 30 * MIN, headEdge + 30 * MIN],
    [retentionEdge - 2 * HOUR, retentionEdge + 2 * HOUR],
    [NOW - 12 * HOUR - 17 * MIN, NOW - 9 * HOUR]
  ]
  for (const key of ['temp', 'odo']) {
    const q = `/series?key=${key}&bucket=1m&from=${FROM + 2 * HOUR - 17 * MIN}&to=${FROM + 3 * HOUR + 7 * MIN}`
    sameSeries(t, await get(rows, q), await get(chunks, q), `${label}: ${q}`)
  }
  for (const [from, to] of ranges) {
    for (const [key, limit] of [['', 1000], ['&key=temp', 7], ['&key=gear', 100], ['', 333]] as const) {
      if (to - from > 6 * HOUR && limit < 1000) continue
      const q = `from=${from}&to=${to}&limit=${limit}${key}`
      const [a, b] = [await allPages(rows, q), await allPages(chunks, q)]
      t.same(b, a, `${label}: raw ${q} (${a.length} pages)`)
    }
    for (const key of ['temp', 'odo', 'door', 'volt', 'gear']) {
      for (const bucket of ['1m', '5m', '1h']) {
        if ((to - from) / ({ '1m': MIN, '5m': 5 * MIN, '1h': HOUR } as Record<string, number>)[bucket] > 1000) continue
        const q = `/series?key=${key}&bucket=${bucket}&from=${from}&to=${to}`
        sameSeries(t, await get(rows, q), await get(chunks, q), `${label}: ${q}`)
      }
    }
  }
}

t.test('every telemetry route answers the same from the row store and the chunk store', async t => {
  const rows = await store(t, false)
  const chunks = await store(t, true)
  t.equal(chunks.deviceId, rows.deviceId)
  const data = generate(rows.deviceId)
  for (let i = 0; i < data.length; i += 1000) {
    rows.app.gateway.services.telemetry.repo.insertManySync(data.slice(i, i + 1000))
    chunks.app.gateway.services.telemetry.repo.insertManySync(data.slice(i, i + 1000))
  }
  await compare(t, rows, chunks, 'before retention (chunk store all head)')

  const r1 = await rows.retention.runOnce()
  const c1 = await chunks.retention.runOnce()
  t.ok(r1.folded > 0)
  t.ok((c1.chunked ?? 0) > 0 && (c1.chunksDropped ?? 0) > 0, `closed ${c1.chunked}, dropped ${c1.chunksDropped}`)
  const q = async (s: Store, sql: string): Promise<any> => (await s.app.gateway.services.db.dataSource.query(sql))[0]
  const head = await q(chunks, 'SELECT COUNT(*) AS n, MIN(ts) AS first FROM telemetry_data')
  t.ok(
    head.n > 0 && head.first >= Math.floor((NOW - 5 * MIN) / HOUR) * HOUR,
    `the head keeps the hour under way (${head.n} rows)`
  )
  t.equal((await q(chunks, 'SELECT COUNT(*) AS n FROM telemetry_chunks')).n > 0, true)
  // The minutes of the closed hours are in day chunks: the day before the retention edge, and today's so far.
  const closed = Math.floor((NOW - 5 * MIN) / HOUR) * HOUR
  t.ok((c1.aggregatesCompacted ?? 0) > 0, `compacted ${c1.aggregatesCompacted} minutes`)
  t.equal((await q(chunks, `SELECT COUNT(*) AS n FROM telemetry_aggregates WHERE bucket_start < ${closed}`)).n, 0)
  t.equal(
    (await q(chunks, 'SELECT COUNT(*) AS n FROM telemetry_aggregate_chunks')).n,
    8,
    'a chunk per numeric key and day'
  )
  await compare(t, rows, chunks, 'after retention')

  // Late readings of closed hours (the newest of their minute) and readings from the future land in the head.
  const late: TelemetryRow[] = [
    {
      deviceId: rows.deviceId,
      key: 'temp',
      value: 99.5,
      valueText: null,
      unit: '°C',
      dataType: 'number',
      ts: NOW - 12 * HOUR - 40 * MIN + 50_000
    },
    {
      deviceId: rows.deviceId,
      key: 'temp',
      value: -4,
      valueText: null,
      unit: '°C',
      dataType: 'number',
      ts: NOW - 2 * HOUR - 10 * MIN + 55_000
    },
    {
      deviceId: rows.deviceId,
      key: 'gear',
      value: null,
      valueText: 'late',
      unit: null,
      dataType: 'string',
      ts: NOW - 12 * HOUR - 40 * MIN + 50_000
    },
    {
      deviceId: rows.deviceId,
      key: 'odo',
      value: 1,
      valueText: null,
      unit: null,
      dataType: 'number',
      ts: NOW + 10 * MIN
    },
    {
      deviceId: rows.deviceId,
      key: 'new',
      value: 5,
      valueText: null,
      unit: null,
      dataType: 'number',
      ts: NOW - 5 * HOUR
    },
    // Past raw retention, in a minute already compacted into its day chunk (the newest of its minute, and not).
    {
      deviceId: rows.deviceId,
      key: 'temp',
      value: 55.5,
      valueText: null,
      unit: '°C',
      dataType: 'number',
      ts: FROM + 2 * HOUR + 50_000
    },
    {
      deviceId: rows.deviceId,
      key: 'odo',
      value: -3,
      valueText: null,
      unit: null,
      dataType: 'number',
      ts: FROM + 2 * HOUR + 5_000
    }
  ]
  rows.app.gateway.services.telemetry.repo.insertManySync(late)
  chunks.app.gateway.services.telemetry.repo.insertManySync(late)
  await compare(t, rows, chunks, 'late readings in the head beside closed chunks')
  // The row store folds the late readings past raw retention, the chunk store closes them and drops their chunks.
  t.equal((await rows.retention.runOnce()).folded, 2)
  const c2 = await chunks.retention.runOnce()
  t.equal(c2.chunked, 6, 'the late readings of closed hours close into chunks of their own')
  t.equal(c2.aggregatesCompacted, 5, 'the compacted minutes take the late readings in')
  t.equal((await q(chunks, `SELECT COUNT(*) AS n FROM telemetry_aggregates WHERE bucket_start < ${closed}`)).n, 0)
  await compare(t, rows, chunks, 'late readings closed')
})

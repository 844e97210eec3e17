import 'reflect-metadata'
import t from 'tap'
import { TelemetryRepository, type TelemetryRow } from '../../src/persistence/repositories/telemetry.js'
import { TelemetryRetentionRepository } from '../../src/persistence/repositories/telemetry-retention.js'
import { CanSignalRepository } from '../../src/persistence/repositories/can-signals.js'
import { pgDataSource } from '../helpers/pg.js'
import { TelemetryAggregateChunkRepository } from '../../src/persistence/repositories/telemetry-aggregate-chunks.js'
import { TelemetryChunkRepository } from '../../src/persistence/repositories/telemetry-chunks.js'

const url = process.env.AUTOCORE_TEST_PG_URL
const T0 = Date.UTC(2026, 0, 1)

if (url === undefined || url === '') {
  t.pass('AUTOCORE_TEST_PG_URL is unset: the telemetry SQL on PostgreSQL needs a server and did not run')
} else {
  t.test('telemetry repositories on PostgreSQL: batch insert, queries, fold, expiry, CAN signals', async t => {
    const ds = await pgDataSource(t, url)
    await ds.query(
      "INSERT INTO devices (uuid, name, type, created_at, updated_at) VALUES ('pg-dev', 'pg', 'sensor', 0, 0)"
    )

    const repo = new TelemetryRepository(ds)
    t.equal(repo.busy(), false)
    const id = await repo.deviceId('pg-dev') as number
    t.equal(await repo.deviceId('nobody'), undefined)
    t.equal(repo.deviceId('pg-dev'), id, 'cached: answered without a query')
    const rows: TelemetryRow[] = []
    // 3 minutes at 1 Hz of "temp", plus a text reading.
    for (let i = 0; i < 180; i++) {
      rows.push({
        deviceId: id,
        key: 'temp',
        value: i,
        valueText: null,
        unit: 'C',
        dataType: 'number',
        ts: T0 + i * 1000
      })
    }
    rows.push({ deviceId: id, key: 'mode', value: null, valueText: 'eco', unit: null, dataType: 'string', ts: T0 + 1 })
    t.same(await repo.insertBatch(rows), { dropped: 0 })
    const ghost = {
      deviceId: id + 1000,
      key: 'temp',
      value: 1,
      valueText: null,
      unit: null,
      dataType: 'number' as const,
      ts: T0 + 500_000
    }
    t.same(
      await repo.insertBatch([ghost, { ...ghost, deviceId: id, key: 'late' }]),
      { dropped: 1 },
      'a missing device drops its rows only'
    )

    t.same(await repo.latest(id), [
      { key: 'late', value: 1, unit: null, ts: T0 + 500_000 },
      { key: 'mode', value: 'eco', unit: null, ts: T0 + 1 },
      { key: 'temp', value: 179, unit: 'C', ts: T0 + 179_000 }
    ])
    const page = await repo.raw(id, { key: 'temp', from: T0, to: T0 + 3_600_000, limit: 2 })
    t.same(page.items.map(r => r.value), [179, 178])
    t.match(page.next, /^\d+:\d+$/)

    const retention = new TelemetryRetentionRepository(ds)
    t.equal(retention.reclaim(), undefined, 'nothing to vacuum on PostgreSQL')
    // Fold the first two minutes, in chunks of 50 rows.
    let folded = 0
    for (let n = -1; n !== 0;) { n = await retention.foldChunk(T0 + 120_000, 50); folded += n }
    t.equal(folded, 121, '120 temp readings and the text reading')
    const aggs = await ds.query(
      'SELECT bucket_start, count, min, max, avg, last FROM telemetry_aggregates ORDER BY bucket_start'
    )
    t.same(
      aggs.map((a: Record<string, unknown>) => [Number(a.bucket_start), a.count, a.min, a.max, a.avg, a.last]),
      [
        [T0, 60, 0, 59, 29.5, 59],
        [T0 + 60_000, 60, 60, 119, 89.5, 119]
      ]
    )

    t.same(
      await repo.series(id, 'temp', T0, T0 + 180_000, 300_000),
      [{ t: T0, count: 180, min: 0, max: 179, avg: 89.5, last: 179 }],
      'aggregates and raw merged'
    )
    t.equal(await retention.deleteAggregates(T0 + 60_000, 10), 1)
    t.equal(await retention.deleteEvents(T0, 10), 0)

    const can = new CanSignalRepository(ds)
    const signal = {
      name: 'Speed',
      canId: 0x100,
      startBit: 0,
      length: 16,
      byteOrder: 'little' as const,
      isSigned: false,
      scale: 0.1,
      offset: 0,
      unit: 'km/h',
      min: null,
      max: null
    }
    t.same(await can.upsert([signal], id), { inserted: 1, updated: 0 })
    t.same(await can.upsert([{ ...signal, scale: 0.01 }], id), { inserted: 0, updated: 1 })
    t.match(await can.enabled(), [{ name: 'Speed', scale: 0.01, deviceId: id }])
  })

  t.test('chunk store on PostgreSQL: slices closed, hours merged into bytea chunks, read back, dropped', async t => {
    const ds = await pgDataSource(t, url)
    await ds.query(
      "INSERT INTO devices (uuid, name, type, created_at, updated_at) VALUES ('pg-chunks', 'pg', 'sensor', 0, 0)"
    )
    const repo = new TelemetryRepository(ds)
    const id = await repo.deviceId('pg-chunks') as number
    const rows: TelemetryRow[] = []
    // Two hours at 10 s of "temp" (the value is the minute of the reading), a text reading and a NaN-free special.
    for (let i = 0; i < 720; i++) {
      rows.push({
        deviceId: id,
        key: 'temp',
        value: Math.floor(i / 6),
        valueText: null,
        unit: 'C',
        dataType: 'number',
        ts: T0 + i * 10_000
      })
    }
    rows.push({
      deviceId: id,
      key: 'mode',
      value: null,
      valueText: 'eco ✓',
      unit: null,
      dataType: 'string',
      ts: T0 + 5
    })
    rows.push({
      deviceId: id,
      key: 'temp',
      value: -0,
      valueText: null,
      unit: 'C',
      dataType: 'number',
      ts: T0 + 7_200_000
    })
    await repo.insertBatch(rows)
    const before = {
      latest: await repo.latest(id),
      raw: await repo.raw(id, { from: T0, to: T0 + 8_000_000, limit: 1000 }),
      series: await repo.series(id, 'temp', T0, T0 + 8_000_000, 300_000)
    }

    const chunks = new TelemetryChunkRepository(ds)
    await t.rejects(chunks.closeOne(T0 + 1), RangeError)
    let moved = 0
    for (let n = -1; n !== 0;) { n = await chunks.closeOne(T0 + 7_200_000, 250); moved += n }
    t.equal(moved, 721, 'two hours of temp and the text reading closed; the third hour stays in the head')
    const slices = await ds.query('SELECT key, min_ts, max_ts, count FROM telemetry_chunks ORDER BY key, min_ts')
    t.same(
      slices.map((c: Record<string, unknown>) => [c.key, Number(c.min_ts), Number(c.max_ts), c.count]),
      [
        ['mode', T0 + 5, T0 + 5, 1],
        ['temp', T0, T0 + 2_450_000, 246],
        ['temp', T0 + 2_460_000, T0 + 3_590_000, 114],
        ['temp', T0 + 3_600_000, T0 + 6_050_000, 246],
        ['temp', T0 + 6_060_000, T0 + 7_190_000, 114]
      ],
      'slices of whole minutes, at most 250 readings each, none across an hour'
    )
    await t.rejects(chunks.mergeOne(T0 + 60_000), RangeError)
    let merged = 0
    for (let n = -1; n !== 0;) { n = await chunks.mergeOne(T0 + 7_200_000, 250); merged += n }
    t.equal(merged, 720, 'each hour of temp merged into one chunk')
    const stored = await ds.query('SELECT key, min_ts, max_ts, count, data FROM telemetry_chunks ORDER BY key, min_ts')
    t.same(
      stored.map((c: Record<string, unknown>) => [c.key, Number(c.min_ts), Number(c.max_ts), c.count]),
      [
        ['mode', T0 + 5, T0 + 5, 1],
        ['temp', T0, T0 + 3_590_000, 360],
        ['temp', T0 + 3_600_000, T0 + 7_190_000, 360]
      ],
      'one chunk per series hour'
    )
    t.ok(
      Buffer.isBuffer(stored[1].data) && stored[1].data.length < 360,
      `bytea chunk of ${stored[1].data.length as number} bytes`
    )
    t.equal(
      Number((await ds.query('SELECT COUNT(*) AS n FROM telemetry_aggregates'))[0].n),
      120,
      'one aggregate per closed minute'
    )

    t.same(await repo.latest(id), before.latest)
    t.same(await repo.raw(id, { from: T0, to: T0 + 8_000_000, limit: 1000 }), before.raw)
    const page = await repo.raw(id, {
      key: 'temp',
      from: T0,
      to: T0 + 8_000_000,
      limit: 3,
      cursor: { ts: T0 + 3_610_000, id: 0 }
    })
    t.same(page.items.map(r => r.ts), [T0 + 3_600_000, T0 + 3_590_000, T0 + 3_580_000], 'a page across the chunk edge')
    t.same(await repo.series(id, 'temp', T0, T0 + 8_000_000, 300_000), before.series)

    // The closed minutes into their day's chunk (bytea), read back by the series answer, dropped a day at a time.
    const days = new TelemetryAggregateChunkRepository(ds)
    let compacted = 0
    for (let n = -1; n !== 0;) { n = await days.compactOne(T0 + 7_200_000); compacted += n }
    t.equal(compacted, 120)
    t.equal(Number((await ds.query('SELECT COUNT(*) AS n FROM telemetry_aggregates'))[0].n), 0)
    t.same(await repo.series(id, 'temp', T0, T0 + 8_000_000, 300_000), before.series, 'series from the day chunk')
    t.equal(await days.drop(T0 + 86_400_000 - 1, 10), 0, 'a day is dropped once it has ended by the cutoff')
    t.equal(await days.drop(T0 + 86_400_000, 10), 1)

    t.equal(await chunks.drop(T0 + 3_600_000, 10), 2, 'the first hour of temp and the text reading')
    t.equal(await chunks.drop(T0 + 3_600_000, 10), 0)
    t.same((await repo.raw(id, { from: T0, to: T0 + 8_000_000, limit: 1000 })).items.length, 361)
  })
}

import 'reflect-metadata'
import t from 'tap'
import { TelemetryRepository, type TelemetryRow } from '../../src/persistence/repositories/telemetry.js'
import { TelemetryRetentionRepository } from '../../src/persistence/repositories/telemetry-retention.js'
import { CanSignalRepository } from '../../src/persistence/repositories/can-signals.js'
import { pgDataSource } from '../helpers/pg.js'

const url = process.env.AUTOCORE_TEST_PG_URL
const T0 = Date.UTC(2026, 0, 1)

if (url === undefined || url === '') {
  t.pass('AUTOCORE_TEST_PG_URL is unset: the telemetry SQL on PostgreSQL needs a server and did not run')
} else {
  t.test('telemetry repositories on PostgreSQL: batch insert, queries, fold, expiry, CAN signals', async t => {
    const ds = await pgDataSource(t, url)
    await ds.query("INSERT INTO devices (uuid, name, type, created_at, updated_at) VALUES ('pg-dev', 'pg', 'sensor', 0, 0)")

    const repo = new TelemetryRepository(ds)
    t.equal(repo.busy(), false)
    const id = await repo.deviceId('pg-dev') as number
    t.equal(await repo.deviceId('nobody'), undefined)
    t.equal(repo.deviceId('pg-dev'), id, 'cached: answered without a query')
    const rows: TelemetryRow[] = []
    // 3 minutes at 1 Hz of "temp", plus a text reading.
    for (let i = 0; i < 180; i++) rows.push({ deviceId: id, key: 'temp', value: i, valueText: null, unit: 'C', dataType: 'number', ts: T0 + i * 1000 })
    rows.push({ deviceId: id, key: 'mode', value: null, valueText: 'eco', unit: null, dataType: 'string', ts: T0 + 1 })
    t.same(await repo.insertBatch(rows), { dropped: 0 })
    const ghost = { deviceId: id + 1000, key: 'temp', value: 1, valueText: null, unit: null, dataType: 'number' as const, ts: T0 + 500_000 }
    t.same(await repo.insertBatch([ghost, { ...ghost, deviceId: id, key: 'late' }]), { dropped: 1 }, 'a missing device drops its rows only')

    t.same(await repo.latest(id), [{ key: 'late', value: 1, unit: null, ts: T0 + 500_000 }, { key: 'mode', value: 'eco', unit: null, ts: T0 + 1 }, { key: 'temp', value: 179, unit: 'C', ts: T0 + 179_000 }])
    const page = await repo.raw(id, { key: 'temp', from: T0, to: T0 + 3_600_000, limit: 2 })
    t.same(page.items.map(r => r.value), [179, 178])
    t.match(page.next, /^\d+:\d+$/)

    const retention = new TelemetryRetentionRepository(ds)
    t.equal(retention.reclaim(), undefined, 'nothing to vacuum on PostgreSQL')
    // Fold the first two minutes, in chunks of 50 rows.
    let folded = 0
    for (let n = -1; n !== 0;) { n = await retention.foldChunk(T0 + 120_000, 50); folded += n }
    t.equal(folded, 121, '120 temp readings and the text reading')
    const aggs = await ds.query('SELECT bucket_start, count, min, max, avg, last FROM telemetry_aggregates ORDER BY bucket_start')
    t.same(aggs.map((a: Record<string, unknown>) => [Number(a.bucket_start), a.count, a.min, a.max, a.avg, a.last]), [[T0, 60, 0, 59, 29.5, 59], [T0 + 60_000, 60, 60, 119, 89.5, 119]])

    t.same(await repo.series(id, 'temp', T0, T0 + 180_000, 300_000), [{ t: T0, count: 180, min: 0, max: 179, avg: 89.5, last: 179 }], 'aggregates and raw merged')
    t.equal(await retention.deleteAggregates(T0 + 60_000, 10), 1)
    t.equal(await retention.deleteEvents(T0, 10), 0)

    const can = new CanSignalRepository(ds)
    const signal = { name: 'Speed', canId: 0x100, startBit: 0, length: 16, byteOrder: 'little' as const, isSigned: false, scale: 0.1, offset: 0, unit: 'km/h', min: null, max: null }
    t.same(await can.upsert([signal], id), { inserted: 1, updated: 0 })
    t.same(await can.upsert([{ ...signal, scale: 0.01 }], id), { inserted: 0, updated: 1 })
    t.match(await can.enabled(), [{ name: 'Speed', scale: 0.01, deviceId: id }])
  })
}

import t from 'tap'
import { startApp, type RunningApp } from '../helpers/app.js'
import { createUser, login, provisionDevice } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { RetentionService } from '../../src/services/retention.js'
import type { TelemetryRow } from '../../src/persistence/repositories/telemetry.js'

const DAY = 86_400_000
const MIN = 60_000
// Mid-hour, so the raw/aggregate boundary falls inside a 1 h bucket of the series.
const NOW = Date.UTC(2026, 0, 9, 0, 30, 10)
const STEP = 20_000

interface Agg { count: number, min: number, max: number, sum: number, last: number }

/** 8 days of two keys every 20 s, values from a fixed LCG; expected per-minute and per-hour aggregates in JS. */
function generate (deviceId: number): { rows: TelemetryRow[], minutes: Map<string, Agg> } {
  let seed = 42
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return Math.round((seed / 2147483648) * 2000 - 1000) / 10
  }
  const rows: TelemetryRow[] = []
  const minutes = new Map<string, Agg>()
  for (let ts = NOW - 8 * DAY; ts < NOW; ts += STEP) {
    for (const key of ['temp', 'volt']) {
      const value = rnd()
      rows.push({ deviceId, key, value, valueText: null, unit: null, dataType: 'number', ts })
      const k = `${key}@${Math.floor(ts / MIN) * MIN}`
      const a = minutes.get(k)
      if (a === undefined) minutes.set(k, { count: 1, min: value, max: value, sum: value, last: value })
      else { a.count++; a.min = Math.min(a.min, value); a.max = Math.max(a.max, value); a.sum += value; a.last = value }
    }
  }
  return { rows, minutes }
}

async function q<T = any> (app: RunningApp, sql: string, params: unknown[] = []): Promise<T[]> {
  return await app.gateway.services.db.dataSource.query(sql, params)
}

t.test('8 days of readings: raw kept for 7, older folded into exact per-minute aggregates, series ' +
  'continuous', async t => {
  const app = await startApp(t, { config: { telemetry: { retentionChunkRows: 5000 } } })
  const { uuid } = await provisionDevice(app)
  const id = await app.gateway.services.telemetry.repo.deviceId(uuid) as number
  const { rows, minutes } = generate(id)
  app.gateway.services.telemetry.repo.insertManySync(rows)
  const clock = new FakeClock(NOW)
  const retention = new RetentionService({ ...app.gateway.services, clock })

  // Aggregates past 90 days and events past 30 go too; younger ones stay.
  await q(app, 'INSERT INTO telemetry_aggregates (device_id, key, bucket_start, count, min, max, avg, last) VALUES ' +
    '(?, ?, ?, 1, 1, 1, 1, 1), (?, ?, ?, 1, 1, 1, 1, 1)',
  [id, 'old', NOW - 91 * DAY, id, 'old', NOW - 89 * DAY])
  await q(
    app,
    "INSERT INTO event_logs (ts, level, event_type, source) VALUES (?, 'info', 'x', 'test'), (?, 'info', 'y', 'test')",
    [NOW - 31 * DAY, NOW - 29 * DAY]
  )

  const report = await retention.runOnce()
  const cutoff = Math.floor((NOW - 7 * DAY) / MIN) * MIN
  const folded = rows.filter(r => r.ts < cutoff).length
  t.equal(report.folded, folded)
  t.ok(report.chunks > folded / 5000, `bounded chunks (${report.chunks})`)
  t.equal(report.aggregatesDeleted, 1)
  t.equal(report.eventsDeleted, 1)
  t.same(report.space?.autoVacuum, 2, 'incremental auto_vacuum on a new file')
  t.same(await q(app, 'SELECT event_type FROM event_logs'), [{ event_type: 'y' }])

  const [raw] = await q(app, 'SELECT COUNT(*) AS n, MIN(ts) AS first FROM telemetry_data')
  t.equal(raw.n, rows.length - folded, 'raw only for the last 7 days')
  t.ok(raw.first >= cutoff)

  const aggs = await q(
    app,
    "SELECT key, bucket_start, count, min, max, avg, last FROM telemetry_aggregates WHERE key != 'old'"
  )
  const expected = [...minutes.entries()].filter(([k]) => Number(k.split('@')[1]) < cutoff)
  t.equal(aggs.length, expected.length, 'one aggregate per key and minute')
  let exact = 0
  for (const a of aggs) {
    const e = minutes.get(`${a.key}@${a.bucket_start}`) as Agg
    if (
      a.count === e.count &&
      a.min === e.min &&
      a.max === e.max &&
      a.last === e.last &&
      Math.abs(a.avg - e.sum / e.count) < 1e-9
    ) { exact++ }
  }
  t.equal(exact, aggs.length, 'count/min/max/avg/last equal the raw data, minute by minute')

  // The series over all 8 days: every hour present, each with every reading once, across the boundary.
  const from = Math.floor((NOW - 8 * DAY) / 3_600_000) * 3_600_000
  const viewer = await createUser(app, { role: 'viewer' })
  const token = await login(app, viewer.username, viewer.password)
  const res = await fetch(`${app.httpUrl}/api/v1/telemetry/${uuid}/series?key=temp&bucket=1h&from=${from}&to=${NOW}`, {
    headers: { authorization: `Bearer ${token}` }
  })
  t.equal(res.status, 200)
  const { points } = (await res.json()) as {
    points: Array<{ t: number, count: number, min: number, max: number, avg: number, last: number }>
  }
  t.equal(points.length, 8 * 24 + 1)
  t.same(points.map((p, i) => p.t - from - i * 3_600_000), points.map(() => 0), 'no gap')
  t.equal(points.reduce((s, p) => s + p.count, 0), rows.length / 2)
  const boundary = points.find(p => p.t <= cutoff && cutoff < p.t + 3_600_000) as typeof points[number]
  const inHour = rows
    .filter(r => r.key === 'temp' && r.ts >= boundary.t && r.ts < boundary.t + 3_600_000)
    .map(r => r.value as number)
  t.equal(boundary.count, inHour.length, 'the straddling hour counts raw and folded readings once')
  t.equal(boundary.min, Math.min(...inHour))
  t.equal(boundary.max, Math.max(...inHour))
  t.ok(Math.abs(boundary.avg - inHour.reduce((s, v) => s + v, 0) / inHour.length) < 1e-9)
  t.equal(boundary.last, inHour[inHour.length - 1])

  t.equal((await retention.runOnce()).folded, 0, 'a second pass has nothing to fold')
})

t.test('the job runs on its interval (injected clock) and logs its pass', async t => {
  const app = await startApp(t, { config: { telemetry: { retentionIntervalMs: 60_000 } } })
  const clock = new FakeClock(NOW)
  const retention = new RetentionService({ ...app.gateway.services, clock })
  await retention.start()
  t.teardown(() => retention.stop())
  await clock.tick(60_000)
  const line = app.logs.find(l => l.msg === 'retention pass')
  t.match(line, { module: 'retention', folded: 0, eventsDeleted: 0 })
})

t.test('chunk store: the head is closed every minute, the rest of the pass keeps its interval; runOnce is a full ' +
  'pass even when a close is under way', async t => {
  const app = await startApp(t, { config: { telemetry: { chunkStore: true, retentionIntervalMs: 600_000 } } })
  const { uuid } = await provisionDevice(app)
  const id = await app.gateway.services.telemetry.repo.deviceId(uuid) as number
  const rows: TelemetryRow[] = []
  for (let ts = NOW - 3 * MIN; ts < NOW; ts += 10_000) {
    rows.push({ deviceId: id, key: 'temp', value: ts % 97, valueText: null, unit: null, dataType: 'number', ts })
  }
  app.gateway.services.telemetry.repo.insertManySync(rows)
  const oldEvent = async (): Promise<void> => {
    await q(app, "INSERT INTO event_logs (ts, level, event_type, source) VALUES (?, 'info', 'x', 'test')",
      [NOW - 31 * DAY])
  }
  const oldEvents = async (): Promise<number> =>
    (await q(app, 'SELECT COUNT(*) AS n FROM event_logs WHERE ts < ?', [NOW - 30 * DAY]))[0].n
  const passes = (): number => app.logs.filter(l => l.msg === 'retention pass' && l.module === 'retention').length
  await oldEvent()
  const clock = new FakeClock(NOW)
  const retention = new RetentionService({ ...app.gateway.services, clock })
  await retention.start()
  t.teardown(() => retention.stop())
  const before = passes()

  await clock.tick(MIN)
  await retention.tick()
  // now = NOW + 1 min: the minutes that ended a minute ago or more are closed.
  const cutoff = Math.floor(NOW / MIN) * MIN
  const [head] = await q(app, 'SELECT COUNT(*) AS n, MIN(ts) AS first FROM telemetry_data')
  const [chunked] = await q(app, 'SELECT COALESCE(SUM(count), 0) AS n FROM telemetry_chunks')
  t.equal(head.n + chunked.n, rows.length, 'every reading in the head or in a chunk')
  t.equal(head.n, rows.filter(r => r.ts >= cutoff).length, 'after a minute the head holds only the last minute')
  t.ok(chunked.n > 0, `${chunked.n as number} readings closed into chunks`)
  t.equal(await oldEvents(), 1, 'the close pass deletes nothing else')
  t.equal(passes(), before, 'and is not logged as a retention pass')

  for (let m = 2; m <= 10; m++) {
    await clock.tick(MIN)
    await retention.tick()
  }
  t.equal(await oldEvents(), 0, 'after retentionIntervalMs the full pass ran')
  t.equal(passes(), before + 1, 'once')

  await oldEvent()
  const closing = retention.tick()
  const full = await retention.runOnce()
  t.equal(full.eventsDeleted, 1, 'runOnce during a close pass waits for it, then runs a full pass')
  t.equal((await closing).eventsDeleted, 0)
  t.equal(passes(), before + 2)
})

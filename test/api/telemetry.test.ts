import t from 'tap'
import { startApp } from '../helpers/app.js'
import { createUser, login, provisionDevice } from '../helpers/devices.js'
import type { TelemetryRow } from '../../src/persistence/repositories/telemetry.js'

const T0 = Date.UTC(2026, 0, 1)

t.test('latest, raw (newest first, cursor pages) and series; errors from the registry', async t => {
  const app = await startApp(t)
  const { uuid } = await provisionDevice(app)
  const repo = app.gateway.services.telemetry.repo
  const id = await repo.deviceId(uuid) as number
  const rows: TelemetryRow[] = []
  for (let i = 0; i < 25; i++) {
    rows.push({
      deviceId: id,
      key: 'temp',
      value: i,
      valueText: null,
      unit: 'C',
      dataType: 'number',
      ts: T0 + i * 10_000
    })
  }
  rows.push({ deviceId: id, key: 'door', value: 1, valueText: null, unit: null, dataType: 'boolean', ts: T0 + 5 })
  rows.push({ deviceId: id, key: 'mode', value: null, valueText: 'eco', unit: null, dataType: 'string', ts: T0 + 7 })
  repo.insertManySync(rows)
  const viewer = await createUser(app, { role: 'viewer' })
  const token = await login(app, viewer.username, viewer.password)
  const get = async (path: string): Promise<{ status: number, body: any }> => {
    const res = await fetch(`${app.httpUrl}/api/v1/telemetry/${path}`, {
      headers: { authorization: `Bearer ${token}` }
    })
    return { status: res.status, body: await res.json() }
  }

  const latest = await get(`${uuid}/latest`)
  t.equal(latest.status, 200)
  t.same(latest.body, {
    device: uuid,
    readings: [
      { key: 'door', value: true, unit: null, ts: T0 + 5 },
      { key: 'mode', value: 'eco', unit: null, ts: T0 + 7 },
      { key: 'temp', value: 24, unit: 'C', ts: T0 + 240_000 }
    ]
  })

  const seen: number[] = []
  let cursor: string | null = ''
  let pages = 0
  while (cursor !== null) {
    const page = await get(
      `${uuid}?key=temp&from=${T0}&to=${T0 + 3_600_000}&limit=10${cursor === '' ? '' : `&cursor=${cursor}`}`
    )
    t.equal(page.status, 200)
    seen.push(...page.body.items.map((r: { value: number }) => r.value))
    cursor = page.body.next
    pages++
  }
  t.equal(pages, 3)
  t.same(seen, Array.from({ length: 25 }, (_, i) => 24 - i), 'every reading once, newest first')

  const all = await get(`${uuid}?from=${T0}&to=${T0 + 3_600_000}&limit=1000`)
  t.equal(all.body.items.length, 27, 'without key: every key')

  const series = await get(`${uuid}/series?key=temp&from=${T0}&to=${T0 + 600_000}&bucket=5m`)
  t.same(series.body.points, [
    { t: T0, count: 25, min: 0, max: 24, avg: 12, last: 24 }
  ])
  t.match(series.body, { bucket: '5m', key: 'temp' })

  const bad = await get(`${uuid}/series?key=temp&bucket=2m&extra=1`)
  t.equal(bad.status, 400)
  t.equal(bad.body.error.code, 'GW_ERR_TELEMETRY_BAD_QUERY')
  t.match(bad.body.error.details, [
    { in: 'query', field: 'extra', message: 'is not allowed here' },
    { in: 'query', field: 'bucket' }
  ])
  t.equal((await get(`${uuid}/series?bucket=1m`)).body.error.details[0].field, 'key')
  t.equal((await get(`${uuid}?from=10&to=5`)).body.error.message, 'invalid query: from must be before to')
  t.equal((await get(`${uuid}/series?key=x&from=0&to=${T0}&bucket=1m`)).status, 400, 'too many buckets')
  t.equal((await get(`${uuid}?limit=5000`)).status, 400)
  const unknown = await get('nobody/latest')
  t.same(unknown, {
    status: 404,
    body: { error: { code: 'GW_ERR_TELEMETRY_DEVICE_NOT_FOUND', message: 'no device nobody' } }
  })
})

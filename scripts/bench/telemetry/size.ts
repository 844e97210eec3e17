// Whole-database size for the seeds' workload (issue 18, acceptance 1): 10 devices publishing one message a second
// with 10 keys, 7 days at full resolution in closed chunks, 90 days of per-minute aggregates in day chunks, 30 days
// of events, and the head at its largest (the minutes not yet closed into chunks).
// Time is simulated: every reading of the simulated days is generated with its timestamp (1 Hz). Generating all
// 90 days (778 million readings) takes ~10 minutes of CPU, so by default 7 days are simulated (raw chunks and day
// chunks of minutes), and the other 83 days of minute aggregates are extrapolated from the measured bytes per
// minute: the line says which figure is measured and which is extrapolated. The chunks are encoded with the
// store's codecs and written with the store's statements; ingest and the close
// path themselves are measured in the `chunk store` lines (chunks.ts).
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { ChunkEncoder } from '../../../src/persistence/chunks/codec.js'
import { encodeMinutes, type MinuteAggregate } from '../../../src/persistence/chunks/aggregates.js'
import { nativeSqlite } from '../../../src/persistence/sqlite/index.js'
import { TelemetryRepository, type TelemetryRow } from '../../../src/persistence/repositories/telemetry.js'
import { ENGINE_SIGNALS, quantize } from '../../../src/simulator/signals.js'
import { prng, signals, type Signal } from './chunks.js'
import { insertDevices, tempDb } from './storage.js'
import { CHUNK_CLOSE_DELAY_MS, CHUNK_CLOSE_INTERVAL_MS } from '../../../src/services/retention.js'

const DAY_S = 86_400
const T0 = Date.UTC(2026, 0, 1)
const MB = 1024 * 1024

/** The ten keys of a device: the simulated vehicle's six engine signals (quantized as its sensors report them) and
 * four of the bench's classes; or, in the `classes` mix, two keys of each of the five classes. */
function mix (name: 'vehicle' | 'classes', device: number): Signal[] {
  const classes = signals().filter(s => !s.name.startsWith('noisy analog, full'))
  if (name === 'classes') return Array.from({ length: 10 }, (_, k) => classes[k % classes.length].at())
  const engine = ENGINE_SIGNALS.map((s): Signal => i => quantize(s.at(i, device / 7), s.step))
  return [...engine, ...[0, 1, 4, 3].map(c => classes[c].at())]
}

interface Tally { raw: number, rawBytes: number, minutes: number, aggBytes: number }

/** One series, 90 days: every hour of the last 7 days a raw chunk, every day a chunk of its minutes. */
function series (db: ReturnType<typeof nativeSqlite> & object, deviceId: number, key: string, sig: Signal, seed: number,
  slot: number, days: number, rawDays: number, tally: Tally): void {
  const rnd = prng(seed)
  const insChunk = db.prepare(`INSERT INTO telemetry_chunks (device_id, key, min_ts, max_ts, count, data)
    VALUES (?, ?, ?, ?, ?, ?)`)
  const insDay = db.prepare(`INSERT INTO telemetry_aggregate_chunks (device_id, key, day_start, minutes, data)
    VALUES (?, ?, ?, ?, ?)`)
  let enc: ChunkEncoder | undefined
  for (let day = 0; day < days; day++) {
    const raw = day >= days - rawDays
    const ms: MinuteAggregate[] = []
    let m: MinuteAggregate | undefined
    let sum = 0
    for (let s = 0; s < DAY_S; s++) {
      const i = day * DAY_S + s
      const ts = T0 + i * 1000
      const v = sig(i, rnd)
      if (s % 60 === 0) {
        if (m !== undefined) ms.push({ ...m, avg: sum / m.count })
        m = { t: ts, count: 0, min: v, max: v, avg: 0, last: v }
        sum = 0
      }
      const a = m as MinuteAggregate
      a.count++
      if (v < a.min) a.min = v
      if (v > a.max) a.max = v
      a.last = v
      sum += v
      if (!raw) continue
      // The ids of 100 series written interleaved, one message a second each.
      enc ??= new ChunkEncoder()
      enc.append({ id: i * 100 + slot + 1, ts, value: v, valueText: null, unit: 'u', dataType: 'number' })
      if (s % 3600 === 3599) {
        const data = Buffer.from(enc.bytes())
        insChunk.run(deviceId, key, enc.minTs, enc.maxTs, enc.count, data)
        tally.raw += enc.count
        tally.rawBytes += data.length
        enc = undefined
      }
    }
    if (m !== undefined) ms.push({ ...m, avg: sum / m.count })
    const data = Buffer.from(encodeMinutes(ms))
    insDay.run(deviceId, key, T0 + day * DAY_S * 1000, ms.length, data)
    tally.minutes += ms.length
    tally.aggBytes += data.length
  }
}

/**
 * Builds the database and prints its size. `eventsPerDay`: the simulated vehicle (`autocore simulate`) writes an
 * event when a board connects and when it goes offline, and none in between (measured: 4 boards for 10 minutes,
 * 8 rows, 0 a minute once they were up); 480 a day is each of the 10 boards dropping and reconnecting once an hour,
 * a generous stand-in for a vehicle whose boards run day and night as its telemetry here does.
 */
export async function wholeDatabase (which: 'vehicle' | 'classes' = 'vehicle', days = 7, rawDays = 7,
  eventDays = 30, eventsPerDay = 480, aggregateDays = 90): Promise<string[]> {
  const t0 = Date.now()
  const { db, dir, done, config } = await tempDb({ telemetry: { chunkStore: true } })
  const native = nativeSqlite(db.dataSource)
  if (native === undefined) throw new Error('sqlite only')
  const ids = await insertDevices(db, 10)
  const tally: Tally = { raw: 0, rawBytes: 0, minutes: 0, aggBytes: 0 }
  for (const [d, deviceId] of ids.entries()) {
    const sigs = mix(which, d)
    native.transaction(() => {
      for (let k = 0; k < 10; k++) {
        series(native, deviceId, `k${k}`, sigs[k], d * 10 + k, d * 10 + k, days, rawDays, tally)
      }
    })()
  }
  // The head at its largest, written through the repository's batch insert: the minutes not yet closed (the
  // close delay), those that ended since the last close (its interval), and the minute under way.
  const repo = new TelemetryRepository(db.dataSource)
  const end = T0 + days * DAY_S * 1000
  const closeEvery = Math.min(CHUNK_CLOSE_INTERVAL_MS, config.telemetry.retentionIntervalMs)
  const headMinutes = (CHUNK_CLOSE_DELAY_MS + closeEvery) / 60_000 + 1
  let headRows = 0
  for (let s = 0; s < headMinutes * 60; s += 10) {
    const batch: TelemetryRow[] = []
    for (let k = 0; k < 10; k++) {
      for (const deviceId of ids) {
        for (let key = 0; key < 10; key++) {
          const ts = end + (s + k) * 1000
          batch.push({ deviceId, key: `k${key}`, value: 20 + key, valueText: null, unit: 'u', dataType: 'number', ts })
        }
      }
    }
    repo.insertManySync(batch)
    headRows += batch.length
  }
  const events = eventDays * eventsPerDay
  const ev = native.prepare(`INSERT INTO event_logs (ts, level, event_type, source, action, target, username, payload)
    VALUES (?, 'info', ?, 'presence', NULL, ?, NULL, ?)`)
  native.transaction(() => {
    for (let i = 0; i < events; i++) {
      const uuid = `bench-device-${String((i >> 1) % 10).padStart(3, '0')}`
      const ts = end - eventDays * DAY_S * 1000 + Math.round(i * DAY_S * 1000 / eventsPerDay)
      if (i % 2 === 0) ev.run(ts, 'device_offline', uuid, JSON.stringify({ reason: 'disconnect' }))
      else ev.run(ts, 'device_connected', uuid, JSON.stringify({ via: 'connect', ip: '10.0.0.12' }))
    }
  })()
  native.pragma('wal_checkpoint(TRUNCATE)')
  const table = (t: string): number => (native.prepare(`SELECT COALESCE(SUM(pgsize), 0) AS b FROM dbstat
    WHERE name = ? OR name IN
    (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?)`).get(t, t) as { b: number }).b
  const file = statSync(join(dir, 'autocore.db')).size
  const parts = {
    raw: table('telemetry_chunks'),
    agg: table('telemetry_aggregate_chunks'),
    head: table('telemetry_data'),
    events: table('event_logs')
  }
  await done()
  const f = (b: number): string => `${(b / MB).toFixed(1)} MB`
  const perMinute = parts.agg / tally.minutes
  const more = Math.max(0, aggregateDays - days) * 1440 * 100
  return [
    `db size (${which} mix): 10 devices × 10 keys at 1 Hz, ${days} days simulated in ` +
      `${((Date.now() - t0) / 1000).toFixed(0)} s: file ${f(file)} measured; with ${aggregateDays} days of minute ` +
      `aggregates (the other ${more.toLocaleString('en-US')} minutes ` +
      `extrapolated at ${perMinute.toFixed(2)} B) ${f(file + more * perMinute)} (target < 50 MB)`,
    `db size (${which} mix): ${rawDays} days raw ${tally.raw.toLocaleString('en-US')} readings ${f(parts.raw)} ` +
      `(${(parts.raw / tally.raw).toFixed(2)} B/reading on disk); ${days} days of minute aggregates ` +
      `${tally.minutes.toLocaleString('en-US')} ${f(parts.agg)} (${perMinute.toFixed(2)} B/minute); ` +
      `head at its largest ${headRows.toLocaleString('en-US')} rows ${f(parts.head)}; ${eventDays} days of events at ` +
      `${eventsPerDay}/day ${events.toLocaleString('en-US')} rows ${f(parts.events)}`
  ]
}

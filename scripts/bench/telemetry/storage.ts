// Storage figures: the batch insert paths compared, and DB growth with retention (simulated time).
import 'reflect-metadata'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig, type DeepPartial } from '../../../src/config/loader.js'
import type { Config } from '../../../src/config/types.js'
import type { Services } from '../../../src/services/index.js'
import { createRepositories } from '../../../src/persistence/repositories/index.js'
import { openDatabase, type Database } from '../../../src/persistence/database.js'
import { TelemetryRepository, type TelemetryRow } from '../../../src/persistence/repositories/telemetry.js'
import { nativeSqlite } from '../../../src/persistence/sqlite/index.js'
import { RetentionService } from '../../../src/services/retention.js'
import { TelemetryData } from '../../../entities/telemetry-data.js'

const silent = pino({ level: 'silent' })
const KEYS = ['temperature', 'voltage', 'current', 'rpm', 'pressure', 'humidity', 'speed', 'soc', 'rssi', 'load']

export async function tempDb (
  overrides: DeepPartial<Config> = {}
): Promise<{ db: Database, config: Config, dir: string, done: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'autocore-bench-'))
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, ...overrides } })
  const db = await openDatabase(config, silent)
  return { db, config, dir, done: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }) } }
}

/** Devices bench-device-000..; with `secretHash` they can connect (client id = username = uuid, that secret). */
export async function insertDevices (db: Database, n: number, secretHash: string | null = null): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < n; i++) {
    const uuid = `bench-device-${String(i).padStart(3, '0')}`
    await db.dataSource.query(
      'INSERT INTO devices (uuid, name, type, secret_hash, status, enabled, config_version, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [uuid, uuid, 'sensor', secretHash, 'offline', 1, 0, 0, 0]
    )
    ids.push((await db.dataSource.query('SELECT id FROM devices WHERE uuid = ?', [uuid]))[0].id)
  }
  return ids
}

function rowsFor (deviceIds: number[], ts: number, walk: number[]): TelemetryRow[] {
  const rows: TelemetryRow[] = []
  let i = 0
  for (const deviceId of deviceIds) {
    for (const key of KEYS) {
      // A random walk with two decimals: realistic sensor values, stored as 8-byte doubles.
      walk[i] = Math.round((walk[i] + (Math.random() - 0.5)) * 100) / 100
      rows.push({ deviceId, key, value: walk[i], valueText: null, unit: 'u', dataType: 'number', ts })
      i++
    }
  }
  return rows
}

/** TypeORM insert() vs the prepared statement on the same connection, 100,000 rows in batches of 1,000. */
export async function insertPaths (): Promise<string[]> {
  const out: string[] = []
  for (const variant of ['typeorm insert', 'prepared statement'] as const) {
    const { db, done } = await tempDb()
    const ids = await insertDevices(db, 10)
    const repo = new TelemetryRepository(db.dataSource)
    const walk = new Array(100).fill(20)
    const batches: TelemetryRow[][] = []
    for (let b = 0; b < 100; b++) {
      const batch: TelemetryRow[] = []
      for (let s = 0; s < 10; s++) batch.push(...rowsFor(ids, b * 10 + s, walk))
      batches.push(batch)
    }
    const t0 = process.hrtime.bigint()
    for (const batch of batches) {
      if (variant === 'prepared statement') repo.insertManySync(batch)
      // Plain m.insert() fails here: it re-selects generated columns with one OR term per row (SQLite: "Expression
      // tree is too large" past ~1,000 rows); updateEntity(false) is TypeORM's fastest insert.
      else {
        await db.dataSource.transaction(async m => {
          await m.createQueryBuilder().insert().into(TelemetryData).values(batch).updateEntity(false).execute()
        })
      }
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    out.push(
      `insert path: ${variant.padEnd(20)} ${Math.round(100_000 / s)
        .toLocaleString('en-US')
        .padStart(9)} rows/s (${((s * 1e6) / 100_000).toFixed(1)} µs/row, synchronous=FULL, 1,000-row transactions)`
    )
    await done()
  }
  return out
}

interface Sizes { file: number, raw: number, agg: number, rawRows: number, aggRows: number }

function sizes (db: Database, dir: string): Sizes {
  const native = nativeSqlite(db.dataSource)
  if (native === undefined) throw new Error('sqlite only')
  native.pragma('wal_checkpoint(TRUNCATE)')
  const pg = native
    .prepare(
      "SELECT name, SUM(pgsize) AS bytes FROM dbstat WHERE name LIKE '%telemetry_data%' OR name LIKE " +
        "'%telemetry_aggregates%' GROUP BY name"
    )
    .all() as Array<{ name: string, bytes: number }>
  const bytesOf = (table: string): number => pg.filter(p => p.name.includes(table)).reduce((s, p) => s + p.bytes, 0)
  const count = (table: string): number =>
    (native.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  return {
    file: statSync(join(dir, 'autocore.db')).size,
    raw: bytesOf('telemetry_data'),
    agg: bytesOf('telemetry_aggregates'),
    rawRows: count('telemetry_data'),
    aggRows: count('telemetry_aggregates')
  }
}

const MB = 1024 * 1024
const mb = (b: number): string => `${(b / MB).toFixed(1)} MB`

/**
 * 10 devices × 10 keys at 1 Hz through the repository and the retention job on a simulated clock. Generating all
 * 259 million readings of 30 days would take ~30 minutes here, so the run simulates `hours` with the raw
 * retention scaled down (2 h), measures bytes per raw row and per aggregate row on disk (dbstat: tables and
 * their indexes), and extrapolates to 30 days with 7 days raw — printing both.
 */
export async function growth (hours = 6, rawHours = 2): Promise<string[]> {
  const { db, config, dir, done } = await tempDb({
    telemetry: { rawRetentionDays: rawHours / 24, retentionChunkRows: 20_000 }
  })
  const ids = await insertDevices(db, 10)
  const repo = new TelemetryRepository(db.dataSource)
  let now = Date.UTC(2026, 0, 1)
  const clock = { now: () => now, setTimeout: () => ({ cancel () {} }), setInterval: () => ({ cancel () {} }) }
  const retention = new RetentionService({
    config,
    db,
    clock,
    log: silent,
    repos: createRepositories(db)
  } as unknown as Services)
  const walk = new Array(100).fill(20)
  const t0 = Date.now()
  for (let s = 0; s < hours * 3600; s += 10) {
    const batch: TelemetryRow[] = []
    for (let k = 0; k < 10; k++) batch.push(...rowsFor(ids, now + k * 1000, walk))
    repo.insertManySync(batch)
    now += 10_000
    if (now % 600_000 === 0) await retention.runOnce()
  }
  const z = sizes(db, dir)
  await done()
  const rawPerRow = z.raw / z.rawRows
  const aggPerRow = z.agg / z.aggRows
  const rawRows7d = 100 * 86_400 * 7
  const aggRows23d = 100 * 1440 * 23
  const total = rawRows7d * rawPerRow + aggRows23d * aggPerRow
  const aggOnly30d = 100 * 1440 * 30 * aggPerRow
  const hourly30d = 100 * 24 * 30 * aggPerRow
  const rawHoursIn50 = (50 * MB - hourly30d) / (100 * 3600 * rawPerRow)
  return [
    `db growth: simulated ${hours} h of 10 devices × 10 keys at 1 Hz (raw ` +
      `kept ${rawHours} h) in ${((Date.now() - t0) / 1000).toFixed(1)} s: file ${mb(z.file)}; ` +
      `${z.rawRows.toLocaleString('en-US')} raw rows = ${mb(z.raw)} ` +
      `(${rawPerRow.toFixed(1)} B/row with its 2 indexes), ` +
      `${z.aggRows.toLocaleString('en-US')} aggregates = ${mb(z.agg)} (${aggPerRow.toFixed(1)} B/row)`,
    'db growth: 30 days with telemetry.rawRetentionDays=7 (extrapolated from the measured bytes/row): ' +
      `raw ${rawRows7d.toLocaleString('en-US')} rows × ${rawPerRow.toFixed(1)} B = ${mb(rawRows7d * rawPerRow)} + ` +
      `aggregates ${aggRows23d.toLocaleString('en-US')} × ${aggPerRow.toFixed(1)} B = ${mb(aggRows23d * aggPerRow)} ` +
      `→ ${mb(total)} — the 50 MB target is NOT reachable with 7 days of raw 1 Hz rows ` +
      `(that needs ≤ ${((50 * MB) / rawRows7d).toFixed(2)} B per reading)`,
    'db growth: with the defaults (raw 7 days, per-minute aggregates to 90 days): ' +
      `raw ${mb(rawRows7d * rawPerRow)} + aggregates ${(100 * 1440 * 83).toLocaleString('en-US')} × ` +
      `${aggPerRow.toFixed(1)} B = ${mb(100 * 1440 * 83 * aggPerRow)}`,
    'db growth: what would fit 50 MB: per-minute aggregates alone for 30 days ' +
      `take ${mb(aggOnly30d)}; hourly aggregates for 30 days ` +
      `(${mb(hourly30d)}) plus ~${Math.max(0, rawHoursIn50).toFixed(1)} h of raw 1 Hz readings would`
  ]
}

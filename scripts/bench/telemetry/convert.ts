// Issue 18, acceptance 4: converting an existing database's telemetry_data rows into chunks. The conversion is
// the chunk store's own closing (TelemetryChunkRepository.closeOne then mergeOne, what the retention job runs with
// telemetry.chunkStore on): one transaction per slice of whole minutes of at most `retentionChunkRows` readings,
// then one per batch of series hours merged into one chunk each, so it is bounded, runs beside ingest, and resumes
// where it stopped. `node dist/scripts/bench/telemetry/convert.js`
// runs the whole measurement; the child modes (prepare, convert, verify) are what it spawns.
import 'reflect-metadata'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { loadConfig } from '../../../src/config/loader.js'
import { openDatabase, type Database } from '../../../src/persistence/database.js'
import { TelemetryRepository, type TelemetryRow } from '../../../src/persistence/repositories/telemetry.js'
import { CHUNK_WINDOW_MS, TelemetryChunkRepository } from '../../../src/persistence/repositories/telemetry-chunks.js'
import { TelemetryRetentionRepository } from '../../../src/persistence/repositories/telemetry-retention.js'
import { nativeSqlite } from '../../../src/persistence/sqlite/index.js'
import { forEachReading } from '../../../src/persistence/chunks/codec.js'

const T0 = Date.UTC(2026, 0, 1)

async function open (dir: string): Promise<Database> {
  return await openDatabase(loadConfig({ env: {}, overrides: { dataDir: dir } }), pino({ level: 'silent' }))
}

/** `rows` readings of 10 devices × 10 keys at 1 Hz, a quantized drift, starting at T0. */
async function prepare (dir: string, rows: number): Promise<void> {
  const db = await open(dir)
  const ids: number[] = []
  for (let d = 0; d < 10; d++) {
    await db.dataSource.query(
      'INSERT INTO devices (uuid, name, type, status, enabled, config_version, created_at, updated_at) VALUES (?, ?, ' +
        '?, ?, ?, ?, ?, ?)',
      [`conv-${d}`, `conv-${d}`, 'sensor', 'offline', 1, 0, 0, 0]
    )
    ids.push((await db.dataSource.query('SELECT id FROM devices WHERE uuid = ?', [`conv-${d}`]))[0].id)
  }
  const repo = new TelemetryRepository(db.dataSource)
  for (let i = 0; i < rows / 100; i += 10) {
    const batch: TelemetryRow[] = []
    for (let s = i; s < i + 10; s++) {
      for (const deviceId of ids) {
        for (let k = 0; k < 10; k++) {
          batch.push({
            deviceId,
            key: `k${k}`,
            value: Math.round((20 + 3 * Math.sin(s / 3000 + k)) * 10) / 10,
            valueText: null,
            unit: 'u',
            dataType: 'number',
            ts: T0 + s * 1000
          })
        }
      }
    }
    repo.insertManySync(batch)
  }
  await db.close()
}

/** Closes every chunk; prints its figures as one JSON line (time, peak RSS of this process). */
async function convert (dir: string): Promise<void> {
  const db = await open(dir)
  const chunks = new TelemetryChunkRepository(db.dataSource)
  const t0 = process.hrtime.bigint()
  let moved = 0
  let transactions = 0
  const cutoff = Math.ceil((T0 + 100 * 86_400_000) / CHUNK_WINDOW_MS) * CHUNK_WINDOW_MS
  for (let n = -1; n !== 0; transactions++) { n = await chunks.closeOne(cutoff, 20_000); moved += n }
  // Then each hour's slices of a series into one chunk, as the retention pass does after closing.
  for (let n = -1; n !== 0; transactions++) n = await chunks.mergeOne(cutoff, 20_000)
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  new TelemetryRetentionRepository(db.dataSource).reclaim()
  await db.close()
  console.log(JSON.stringify({ moved, transactions, s, maxRssKb: process.resourceUsage().maxRSS }))
}

/** Head rows and chunk readings: total, distinct ids, duplicates. */
async function verify (dir: string): Promise<void> {
  const db = await open(dir)
  const native = nativeSqlite(db.dataSource)
  if (native === undefined) throw new Error('sqlite only')
  const ids = new Set<number>()
  let total = 0
  for (const r of native.prepare('SELECT id FROM telemetry_data').iterate() as Iterable<{ id: number }>) {
    ids.add(r.id)
    total++
  }
  for (const c of native.prepare('SELECT data FROM telemetry_chunks').iterate() as Iterable<{ data: Uint8Array }>) {
    forEachReading(c.data, r => {
      ids.add(r.id)
      total++
    })
  }
  const head = (native.prepare('SELECT COUNT(*) AS n FROM telemetry_data').get() as { n: number }).n
  const chunks = (native.prepare('SELECT COUNT(*) AS n FROM telemetry_chunks').get() as { n: number }).n
  await db.close()
  console.log(JSON.stringify({ total, distinct: ids.size, head, chunks }))
}

async function child (args: string[], killAfterMs?: number): Promise<Record<string, number>> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  proc.stdout.on('data', (b: Buffer) => { out += b.toString() })
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => proc.kill('SIGKILL'), killAfterMs)
  await new Promise(resolve => proc.once('exit', resolve))
  clearTimeout(timer)
  return out.trim() === '' ? {} : JSON.parse(out.trim().split('\n').pop() as string)
}

function fileSize (dir: string): number {
  return ['autocore.db', 'autocore.db-wal'].reduce((n, f) => {
    try {
      return n + statSync(join(dir, f)).size
    } catch {
      return n
    }
  }, 0)
}

export async function conversion (rows = 1_000_000): Promise<string[]> {
  const out: string[] = []
  const dir = mkdtempSync(join(tmpdir(), 'autocore-bench-convert-'))
  try {
    await child(['prepare', dir, String(rows)])
    const before = fileSize(dir)
    // A copy for the kill -9 run, converted from the same start.
    const killDir = mkdtempSync(join(tmpdir(), 'autocore-bench-convert-kill-'))
    try {
      await child(['prepare', killDir, String(rows)])
      const c = await child(['convert', dir])
      out.push(
        `conversion: ${rows.toLocaleString('en-US')} rows → ${Number(c.moved).toLocaleString('en-US')} readings ` +
          `in ${c.transactions} transactions, ${Number(c.s).toFixed(1)} s ` +
          `(${Math.round(c.moved / c.s).toLocaleString('en-US')} rows/s), ` +
          `peak RSS ${(c.maxRssKb / 1024).toFixed(0)} MB; ` +
          `file ${(before / 1048576).toFixed(1)} MB before, ${(fileSize(dir) / 1048576).toFixed(1)} MB after ` +
          '(incremental vacuum)'
      )
      const v = await child(['verify', dir])
      out.push(
        'conversion: ' +
          `verify: ${v.total.toLocaleString('en-US')} readings, ${v.distinct.toLocaleString('en-US')} distinct ` +
            `ids, ${v.head} left in the head, ${v.chunks.toLocaleString('en-US')} chunks`
      )
      const killed = await child(['convert', killDir], Math.max(500, c.s * 1000 / 3))
      const mid = await child(['verify', killDir])
      await child(['convert', killDir])
      const end = await child(['verify', killDir])
      out.push(
        'conversion: kill -9 after ' +
          `~${Math.max(0.5, c.s / 3).toFixed(1)} s (${killed.moved === undefined ? 'killed' : 'finished first'}): ` +
          `${mid.head.toLocaleString('en-US')} rows still in the head, ` +
          `${mid.total.toLocaleString('en-US')} readings, ` +
          `${mid.distinct.toLocaleString('en-US')} distinct; resumed: ${end.total.toLocaleString('en-US')} readings, ` +
          `${end.distinct.toLocaleString('en-US')} distinct, ${end.head} in the head — ` +
          (end.total === rows && end.distinct === rows && mid.total === rows && mid.distinct === rows
            ? 'no loss, no duplicate'
            : 'MISMATCH')
      )
    } finally {
      rmSync(killDir, { recursive: true, force: true })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, dir, n] = process.argv.slice(2)
  if (mode === 'prepare') await prepare(dir, Number(n))
  else if (mode === 'convert') await convert(dir)
  else if (mode === 'verify') await verify(dir)
  else for (const line of await conversion(n === undefined ? undefined : Number(n))) console.log(line)
}

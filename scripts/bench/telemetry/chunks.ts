// Chunk codec figures (issue 18, acceptance 1, first part): bytes per reading per signal class, stored as chunk
// BLOBs in a SQLite table shaped like telemetry_chunks (dbstat: table and index pages), and the codec's CPU cost.
// Time is simulated: readings carry the timestamps an injected 1 Hz clock gives, so a day passes in a second.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChunkEncoder, forEachReading, type ChunkReading } from '../../../src/persistence/chunks/codec.js'
import { newFilePageSize } from '../../../src/persistence/data-source.js'
import type { Config } from '../../../src/config/types.js'

const DAY_S = 86_400
const CHUNK_S = 3600
const T0 = Date.UTC(2026, 0, 1)

/** A deterministic PRNG (mulberry32), so every run measures the same signals. */
export function prng (seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Signal = (i: number, rnd: () => number) => number

export function signals (): Array<{ name: string, at: () => Signal }> {
  return [
    { name: 'constant (12.6 V)', at: () => () => 12.6 },
    {
      name: 'step changes (a level every ~10 min)',
      at: () => {
        let v = 1
        return (_i, rnd) => {
          if (rnd() < 1 / 600) v = Math.floor(rnd() * 6)
          return v
        }
      }
    },
    {
      name: 'slow drift, 0.1 quantization (temperature)',
      at: () => {
        let walk = 0
        return (i, rnd) => {
          walk += (rnd() - 0.5) * 0.02
          return Math.round((20 + 5 * Math.sin((2 * Math.PI * i) / (6 * 3600)) + walk) * 10) / 10
        }
      }
    },
    {
      name: 'noisy analog, 2 decimals (random walk)',
      at: () => {
        let v = 20
        return (_i, rnd) => {
          v = Math.round((v + rnd() - 0.5) * 100) / 100
          return v
        }
      }
    },
    { name: 'noisy analog, full double', at: () => (_i, rnd) => 12.6 + (rnd() - 0.5) * 0.1 },
    {
      name: 'counter (odometer, +0..3 a second)',
      at: () => {
        let v = 100_000
        return (_i, rnd) => {
          v += Math.floor(rnd() * 4)
          return v
        }
      }
    }
  ]
}

/** One series of `days` at 1 Hz, timestamps exact (`jitterMs` 0) or the gateway's receive time (± jitter). */
function readings (sig: Signal, days: number, jitterMs: number, seed: number): ChunkReading[] {
  const rnd = prng(seed)
  const out: ChunkReading[] = []
  for (let i = 0; i < days * DAY_S; i++) {
    const ts = T0 + i * 1000 + (jitterMs > 0 ? Math.round(rnd() * jitterMs) : 0)
    // The ids 100 interleaved series (10 devices × 10 keys) give one of them.
    out.push({ id: i * 100 + 7, ts, value: sig(i, rnd), valueText: null, unit: 'u', dataType: 'number' })
  }
  return out
}

function encodeChunks (rs: ChunkReading[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let i = 0; i < rs.length; i += CHUNK_S) {
    const enc = new ChunkEncoder()
    for (let j = i; j < Math.min(rs.length, i + CHUNK_S); j++) enc.append(rs[j])
    chunks.push(enc.bytes())
  }
  return chunks
}

/** Bytes on disk of the chunks in a table shaped like telemetry_chunks, with its two indexes, in the pages a
 * chunk-store file has. */
function onDisk (chunks: Uint8Array[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'autocore-bench-chunks-'))
  const db = new Database(join(dir, 'c.db'))
  try {
    db.pragma(`page_size = ${newFilePageSize({ telemetry: { chunkStore: true } } as Config)}`)
    db.exec(`CREATE TABLE telemetry_chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, series_id INTEGER NOT NULL,
      min_ts BIGINT NOT NULL, max_ts BIGINT NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE INDEX idx_c_series ON telemetry_chunks (series_id, max_ts);
      CREATE INDEX idx_c_ts ON telemetry_chunks (max_ts)`)
    const ins = db.prepare(
      'INSERT INTO telemetry_chunks (series_id, min_ts, max_ts, count, data) VALUES (?, ?, ?, ?, ?)'
    )
    db.transaction(() => {
      chunks.forEach((c, i) => ins.run(1, T0 + i * CHUNK_S * 1000, T0 + (i + 1) * CHUNK_S * 1000 - 1, CHUNK_S, c))
    })()
    return (
      db
        .prepare("SELECT SUM(pgsize) AS b FROM dbstat WHERE name LIKE '%telemetry_chunks%' OR name LIKE 'idx_c_%'")
        .get() as { b: number }
    ).b
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

function cpuUs (): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

export async function chunkCodec (days = 1): Promise<string[]> {
  const out: string[] = []
  for (const jitterMs of [0, 20]) {
    for (const [k, s] of signals().entries()) {
      const rs = readings(s.at(), days, jitterMs, 1000 + k)
      const chunks = encodeChunks(rs)
      const blob = chunks.reduce((n, c) => n + c.length, 0)
      out.push(
        `chunk codec: ${s.name.padEnd(44)} ts ${jitterMs === 0 ? 'exact 1 s ' : `±${jitterMs} ms jit`}: ` +
          `${(blob / rs.length).toFixed(2)} B/reading in the BLOBs, ` +
          `${(onDisk(chunks) / rs.length).toFixed(2)} B/reading on disk (1 h chunks, table + 2 indexes, 1 KB pages)`
      )
    }
  }
  // CPU: encoding and decoding a day of the drifting signal, 5 times.
  const rs = readings(signals()[2].at(), days, 0, 7)
  let c0 = cpuUs()
  let t0 = process.hrtime.bigint()
  let chunks: Uint8Array[] = []
  for (let r = 0; r < 5; r++) chunks = encodeChunks(rs)
  let n = 5 * rs.length
  out.push(
    'chunk codec: ' +
      `encode ${Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9)).toLocaleString('en-US')} readings/s, ` +
      `${((cpuUs() - c0) / n).toFixed(3)} µs CPU/reading`
  )
  c0 = cpuUs()
  t0 = process.hrtime.bigint()
  let seen = 0
  for (let r = 0; r < 5; r++) for (const c of chunks) forEachReading(c, () => { seen++ })
  n = seen
  out.push(
    'chunk codec: ' +
      `decode ${Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9)).toLocaleString('en-US')} readings/s, ` +
      `${((cpuUs() - c0) / n).toFixed(3)} µs CPU/reading`
  )
  return out
}

interface StoreRun {
  cpuUs: number
  /** Of cpuUs, the retention passes (closing, merging, folding, dropping). */
  retentionUs: number
  wallS: number
  /** Of wallS, the batch inserts alone: readings committed to the database (the head). */
  insertS: number
  readings: number
  bytes: Record<string, number>
  rows: Record<string, number>
}

/**
 * The seeds' workload (10 devices × 10 keys at 1 Hz, two keys per device of each signal class) through the
 * repository and the retention job on a simulated clock, `hours` long, with the row store and with the chunk store,
 * in the same run (the row store in its steady state: see below): CPU and wall time of ingest plus retention, and
 * the bytes per table (dbstat).
 */
async function storeRun (chunkStore: boolean, hours: number): Promise<StoreRun> {
  const { tempDb, insertDevices } = await import('./storage.js')
  const { RetentionService } = await import('../../../src/services/retention.js')
  const { nativeSqlite } = await import('../../../src/persistence/sqlite/index.js')
  const { createRepositories } = await import('../../../src/persistence/repositories/index.js')
  const { pino } = await import('pino')
  // The row store folds and deletes each reading after an hour here, as it does after 7 days in steady state, so
  // both runs pay for a reading's whole life: insert, aggregate, delete (the chunk store: move into a chunk).
  const { db, config } = await tempDb({ telemetry: { chunkStore, rawRetentionDays: chunkStore ? 7 : 1 / 24 } })
  const ids = await insertDevices(db, 10)
  // One set of repositories, as the gateway has: the inserts and the close share the head's mirror.
  const repos = createRepositories(db)
  const repo = repos.telemetry
  let now = T0
  // The service's own schedule on the simulated clock: its timer fires each time `every` ms have passed.
  let timer = { fire: () => {}, every: Infinity }
  const clock = {
    now: () => now,
    setTimeout: () => ({ cancel () {} }),
    setInterval: (fire: () => void, every: number) => {
      timer = { fire, every }
      return { cancel () {} }
    }
  }
  const log = pino({ level: 'silent' })
  const retention = new RetentionService({ config, db, clock, log, repos } as never)
  await retention.start()
  const classes = signals().filter(s => !s.name.startsWith('noisy analog, full'))
  const gens = ids.flatMap((_, d) =>
    Array.from({ length: 10 }, (_, k) => ({ sig: classes[k % classes.length].at(), rnd: prng(d * 10 + k) }))
  )
  const keys = Array.from({ length: 10 }, (_, k) => `k${k}`)
  let readings = 0
  let retentionUs = 0
  let insertNs = 0n
  const c0 = cpuUs()
  const t0 = process.hrtime.bigint()
  for (let s = 0; s < hours * 3600; s += 10) {
    const batch = []
    for (let step = 0; step < 10; step++) {
      for (let d = 0; d < ids.length; d++) {
        for (let k = 0; k < 10; k++) {
          const g = gens[d * 10 + k]
          batch.push({
            deviceId: ids[d],
            key: keys[k],
            value: g.sig(s + step, g.rnd),
            valueText: null,
            unit: 'u',
            dataType: 'number' as const,
            ts: now + step * 1000
          })
        }
      }
    }
    const i0 = process.hrtime.bigint()
    repo.insertManySync(batch)
    insertNs += process.hrtime.bigint() - i0
    readings += batch.length
    now += 10_000
    if ((now - T0) % timer.every === 0) {
      const r0 = cpuUs()
      timer.fire()
      await retention.tick()
      retentionUs += cpuUs() - r0
    }
  }
  const cpu = cpuUs() - c0
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9
  const native = nativeSqlite(db.dataSource)
  if (native === undefined) throw new Error('sqlite only')
  native.pragma('wal_checkpoint(TRUNCATE)')
  const bytes: Record<string, number> = {}
  const rows: Record<string, number> = {}
  for (const table of ['telemetry_data', 'telemetry_chunks', 'telemetry_aggregates', 'telemetry_aggregate_chunks']) {
    bytes[table] = (
      native
        .prepare(
          'SELECT COALESCE(SUM(pgsize), 0) AS b FROM dbstat WHERE name = ? OR name IN (SELECT name FROM ' +
            "sqlite_master WHERE type = 'index' AND tbl_name = ?)"
        )
        .get(table, table) as { b: number }
    ).b
    const n =
      table === 'telemetry_chunks'
        ? 'COALESCE(SUM(count), 0)'
        : table === 'telemetry_aggregate_chunks'
          ? 'COALESCE(SUM(minutes), 0)'
          : 'COUNT(*)'
    rows[table] = (native.prepare(`SELECT ${n} AS n FROM ${table}`).get() as { n: number }).n
  }
  await db.close()
  return { cpuUs: cpu, retentionUs, wallS, insertS: Number(insertNs) / 1e9, readings, bytes, rows }
}

const MB = 1024 * 1024

export async function chunkStore (hours = 6, rounds = 3): Promise<string[]> {
  // Alternating rounds, the least CPU of each store kept: other load on the machine only ever adds CPU time.
  let [rowsRun, chunkRun] = [await storeRun(false, hours), await storeRun(true, hours)]
  for (let round = 1; round < rounds; round++) {
    const [r, c] = [await storeRun(false, hours), await storeRun(true, hours)]
    if (r.cpuUs < rowsRun.cpuUs) rowsRun = r
    if (c.cpuUs < chunkRun.cpuUs) chunkRun = c
  }
  const out: string[] = []
  for (const [name, r] of [['row store  ', rowsRun], ['chunk store', chunkRun]] as const) {
    out.push(
      `chunk store: ${name} ${hours} h of 10 devices × 10 keys at 1 Hz (simulated clock, retention on its schedule, ` +
        `best of ${rounds}): ` +
        `${Math.round(r.readings / r.wallS).toLocaleString('en-US')} readings/s with retention ` +
        `(${Math.round(r.readings / r.insertS).toLocaleString('en-US')}/s committed by the inserts alone), ` +
        `${(r.cpuUs / r.readings).toFixed(2)} µs CPU/reading ` +
        `(insert ${((r.cpuUs - r.retentionUs) / r.readings).toFixed(2)} + retention ` +
        `${(r.retentionUs / r.readings).toFixed(2)}); ` +
        `head ${r.rows.telemetry_data.toLocaleString('en-US')} rows ${(r.bytes.telemetry_data / MB).toFixed(1)} MB, ` +
        `chunks ${r.rows.telemetry_chunks.toLocaleString('en-US')} readings ` +
        `${(r.bytes.telemetry_chunks / MB).toFixed(2)} MB, ` +
        `aggregates ${r.rows.telemetry_aggregates.toLocaleString('en-US')} rows ` +
        `${(r.bytes.telemetry_aggregates / MB).toFixed(1)} MB + ` +
        `${r.rows.telemetry_aggregate_chunks.toLocaleString('en-US')} minutes in day ` +
        `chunks ${(r.bytes.telemetry_aggregate_chunks / MB).toFixed(2)} MB`
    )
  }
  const perReading = chunkRun.bytes.telemetry_chunks / chunkRun.rows.telemetry_chunks
  out.push('chunk store: CPU per ' +
    `reading ${(chunkRun.cpuUs / chunkRun.readings / (rowsRun.cpuUs / rowsRun.readings)).toFixed(2)}× ` +
    `the row store's (target ≤ 1.2×); closed chunks ${perReading.toFixed(2)} B/reading on disk (this mix: 2 keys per ` +
      'class); ' +
    'whole-database size: the `db size` lines')
  return out
}

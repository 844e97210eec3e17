import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import t, { type Test } from 'tap'
import { Gateway } from '../../src/app.js'
import { EventLog } from '../../entities/event-log.js'
import { listBackups } from '../../src/persistence/sqlite-files.js'
import { RETRY_MS, SETTLE_MS } from '../../src/services/backups.js'
import { BackupService } from '../../src/services/backups.js'
import { captureLogger, testConfig } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import type { DeepPartial } from '../../src/config/loader.js'
import type { Config } from '../../src/config/types.js'

const HOUR = 3_600_000

async function startWithClock (
  t: Test,
  clock: FakeClock,
  config: DeepPartial<Config> = {}
): Promise<{ gateway: Gateway, dataDir: string, logs: ReturnType<typeof captureLogger>['lines'] }> {
  const dataDir = t.testdir()
  const { log, lines } = captureLogger()
  const gateway = await Gateway.start({ config: testConfig(dataDir, config), log, clock })
  t.teardown(() => gateway.stop())
  return { gateway, dataDir, logs: lines }
}

function rowsIn (file: string): { ids: number[], check: string } {
  const db = new Sqlite(file, { readonly: true })
  try {
    const check = (db.pragma('integrity_check') as Array<{ integrity_check: string }>)[0].integrity_check
    const ids = (db.prepare('SELECT id FROM event_logs ORDER BY id').all() as Array<{ id: number }>).map(r => r.id)
    return { ids, check }
  } finally {
    db.close()
  }
}

t.test('a backup taken during a write load passes integrity_check and holds every row committed before it ' +
  'started', async t => {
  const clock = new FakeClock()
  const { gateway, dataDir } = await startWithClock(t, clock)
  const repo = gateway.services.db.dataSource.getRepository(EventLog)
  const row = (i: number): Partial<EventLog> => ({
    ts: i,
    level: 'info',
    eventType: 'load',
    source: 'test',
    payload: { pad: 'x'.repeat(400), i }
  })
  // Enough pages (> 100 per backup step) that the backup spans many event-loop turns while the writer runs.
  await repo.insert(Array.from({ length: 4000 }, (_, i) => row(i)))

  // An object, not two lets: the loops below watch fields the writer changes.
  const load = { committed: 4000, writing: true }
  const writer = (async () => {
    while (load.writing) {
      await repo.insert(row(load.committed))
      load.committed++
      await new Promise(resolve => setImmediate(resolve))
    }
  })()
  while (load.committed < 4100) await new Promise(resolve => setImmediate(resolve))
  const service = new BackupService(gateway.services)
  const before = load.committed
  const made = await service.backupNow()
  const after = load.committed
  load.writing = false
  await writer

  t.ok(after > before, `rows were committed while the backup ran (${after - before})`)
  const { ids, check } = rowsIn(made.file)
  t.equal(check, 'ok')
  t.ok(ids.length >= before, `backup holds ${ids.length} rows, ${before} were committed before it started`)
  t.same(ids, Array.from({ length: ids.length }, (_, i) => i + 1), 'a consistent prefix: no row missing in the middle')
  t.equal(made.file.startsWith(join(dataDir, 'backups', 'autocore-')), true)
  t.notOk(existsSync(made.file + '-wal'), 'the backup is one self-contained file')
})

t.test('scheduled backups: none in the first minute, then every intervalMs after the newest, rotated to ' +
  'keep', async t => {
  const clock = new FakeClock()
  const { gateway, dataDir, logs } = await startWithClock(t, clock, { backup: { intervalMs: HOUR, keep: 2 } })
  const dir = join(dataDir, 'backups')
  const file = join(dataDir, 'autocore.db')
  await clock.tick(SETTLE_MS - 1)
  t.equal(listBackups(dir, file).length, 0, 'nothing during start-up')
  await clock.tick(1)
  await waitFor(() => listBackups(dir, file).length === 1)
  t.equal(listBackups(dir, file)[0].at, clock.now(), 'the first backup right after the settle time')

  for (let i = 0; i < 3; i++) {
    await clock.tick(HOUR)
    await waitFor(() => listBackups(dir, file)[0].at === clock.now())
  }
  const kept = listBackups(dir, file)
  t.equal(kept.length, 2, 'rotated to backup.keep')
  t.same(kept.map(b => clock.now() - b.at), [0, HOUR])
  t.ok(logs.some(l => l.msg === 'backup written' && l.module === 'backups' && l.deleted === 1))
  await gateway.stop()
})

t.test('a restarted gateway takes the next backup intervalMs after the newest one on disk, not after ' +
  'start', async t => {
  const clock = new FakeClock()
  const first = await startWithClock(t, clock, { backup: { intervalMs: 6 * HOUR } })
  const service = new BackupService(first.gateway.services)
  await service.backupNow()
  await first.gateway.stop()

  clock.advance(5 * HOUR)
  const { log } = captureLogger()
  const second = await Gateway.start({
    config: testConfig(first.dataDir, { backup: { intervalMs: 6 * HOUR } }),
    log,
    clock
  })
  t.teardown(() => second.stop())
  const dir = join(first.dataDir, 'backups')
  const file = join(first.dataDir, 'autocore.db')
  await clock.tick(HOUR - 1)
  t.equal(listBackups(dir, file).length, 1)
  await clock.tick(1)
  await waitFor(() => listBackups(dir, file).length === 2)
  t.pass('the second backup came 6 h after the first, one hour after the restart')
})

t.test('a failed backup is logged, recorded as an event, and retried after RETRY_MS', async t => {
  const clock = new FakeClock()
  const dataDir = t.testdir({ 'not-a-dir': 'a file where the backup dir should be' })
  const { log, lines } = captureLogger()
  const gateway = await Gateway.start({
    config: testConfig(dataDir, { backup: { dir: join(dataDir, 'not-a-dir') } }),
    log,
    clock
  })
  t.teardown(() => gateway.stop())
  await clock.tick(SETTLE_MS)
  await waitFor(() => lines.some(l => l.msg === 'backup failed'))
  const events = await gateway.services.db.dataSource.getRepository(EventLog).findBy({ eventType: 'backup.failed' })
  t.equal(events.length, 1)
  t.equal(events[0].level, 'error')
  await clock.tick(RETRY_MS - 1)
  t.equal(lines.filter(l => l.msg === 'backup failed').length, 1, 'no tight retry loop')
  await clock.tick(1)
  await waitFor(() => lines.filter(l => l.msg === 'backup failed').length === 2)
})

t.test('backups are off when disabled, and on PostgreSQL/:memory: there is nothing to back up', async t => {
  const clock = new FakeClock()
  const { dataDir } = await startWithClock(t, clock, { backup: { enabled: false } })
  await clock.tick(SETTLE_MS + HOUR * 24)
  t.notOk(existsSync(join(dataDir, 'backups')))
  t.test('in memory', async t => {
    const mem = await startWithClock(t, clock, { database: { file: ':memory:' } })
    await t.rejects(new BackupService(mem.gateway.services).backupNow(), /sqlite with a file/)
  })
})

async function waitFor (cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

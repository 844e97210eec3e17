import 'reflect-metadata'
import t from 'tap'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/loader.js'
import { openDatabase } from '../../src/persistence/database.js'
import { SystemStatusRepository } from '../../src/persistence/repositories/system-status.js'
import { nativeSqlite } from '../../src/persistence/sqlite/index.js'

const silent = pino({ level: 'silent' })

t.test('setEarly: written before it returns, the synchronous level restored; never nested into another ' +
  'transaction', async t => {
  const dataDir = t.testdir()
  const db = await openDatabase(loadConfig({ env: {}, overrides: { dataDir } }), silent)
  t.teardown(() => db.close())
  const repo = new SystemStatusRepository(db.dataSource)
  const native = nativeSqlite(db.dataSource)
  if (native === undefined) throw new Error('SQLite expected')
  const level = native.pragma('synchronous', { simple: true })
  t.equal(level, 2, 'FULL, the default')

  t.equal(repo.setEarly('emergency', { active: true, reason: 'r' }, 1_732_300_000_123), 'written')
  t.equal(native.pragma('synchronous', { simple: true }), level, 'the configured level is back')
  t.same(await repo.get('emergency'), { active: true, reason: 'r' }, 'readable through TypeORM (simple-json)')

  // Another transaction holds the single connection: setEarly refuses, set() waits for its commit.
  native.prepare('BEGIN').run()
  t.equal(repo.setEarly('emergency', { active: false }, 2), 'connection busy')
  const later = repo.set('emergency', { active: false }, 2)
  await new Promise(resolve => setImmediate(resolve))
  native.prepare('ROLLBACK').run()
  await later
  t.same(await repo.get('emergency'), { active: false }, 'written after the other transaction ended, not inside it')

  await db.close()
  const reopened = await openDatabase(loadConfig({ env: {}, overrides: { dataDir } }), silent)
  t.teardown(() => reopened.close())
  t.same(await new SystemStatusRepository(reopened.dataSource).get('emergency'), { active: false }, 'survives a reopen')
})

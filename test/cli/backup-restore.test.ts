import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { EventLog } from '../../entities/event-log.js'
import { startApp } from '../helpers/app.js'

function io (env: Record<string, string> = {}): {
  env: Record<string, string>
  out: (l: string) => void
  err: (l: string) => void
  lines: string[]
  errors: string[]
} {
  const lines: string[] = []
  const errors: string[] = []
  return {
    env: { AUTOCORE_LOG_LEVEL: 'silent', ...env },
    out: l => lines.push(l),
    err: l => errors.push(l),
    lines,
    errors
  }
}
const noSignals = { once: () => {} }
const cli = async (args: string[], env: Record<string, string>): Promise<ReturnType<typeof io> & { code: number }> => {
  const o = io(env)
  const code = await runCli(['node', 'autocore-gateway', ...args], o, noSignals)
  return { ...o, code }
}

t.test('backup while the gateway runs, restore refused while it runs, then a restore round-trip after it ' +
  'stops', async t => {
  const dataDir = t.testdir()
  const env = { AUTOCORE_DATA_DIR: dataDir }
  const app = await startApp(t, { dataDir })
  const repo = app.gateway.services.db.dataSource.getRepository(EventLog)
  await repo.insert({ ts: 1, level: 'info', eventType: 'before', source: 'test' })

  const made = await cli(['backup'], env)
  t.equal(made.code, 0, made.errors.join('\n'))
  const [, file] = /^backup written: (\S+) \(\d+ bytes\)$/.exec(made.lines[0]) ?? []
  t.ok(file?.startsWith(join(dataDir, 'backups', 'autocore-')), made.lines[0])
  const out = join(dataDir, 'explicit.db')
  t.equal((await cli(['backup', '--out', out], env)).code, 0)
  t.equal((await cli(['backup', '--out', out], env)).code, 1, 'an existing --out file is not overwritten')

  await repo.insert({ ts: 2, level: 'info', eventType: 'after', source: 'test' })
  const refused = await cli(['restore', file], env)
  t.equal(refused.code, 1)
  t.match(
    refused.errors[0],
    new RegExp(/^cannot restore: data directory .* is in use by gateway \(pid \d+\); /.source +
      /stop the gateway first .*GW_ERR_DATA_DIR_LOCKED/.source)
  )
  await app.stop()

  const restored = await cli(['restore', file], env)
  t.equal(restored.code, 0, restored.errors.join('\n'))
  t.match(
    restored.lines[0],
    /^restored .* to .*autocore\.db; the replaced database is kept as .*autocore\.db\.replaced-\d{8}T\d{9}Z$/
  )
  t.equal(
    readdirSync(dataDir).filter(
      f => f.startsWith('autocore.db.replaced-') && !f.endsWith('-wal') && !f.endsWith('-shm')
    ).length,
    1
  )
  t.notOk(existsSync(join(dataDir, 'gateway.lock')), 'restore released its lock')

  const again = await startApp(t, { dataDir })
  const repo2 = again.gateway.services.db.dataSource.getRepository(EventLog)
  t.equal(await repo2.countBy({ eventType: 'before' }), 1)
  t.equal(await repo2.countBy({ eventType: 'after' }), 0, 'the database is the backup')
})

t.test('restore refuses a damaged file or a foreign database and leaves the current one in place', async t => {
  const dataDir = t.testdir({ 'junk.db': 'definitely not sqlite'.repeat(100) })
  const env = { AUTOCORE_DATA_DIR: dataDir }
  t.equal((await cli(['migrate'], env)).code, 0)
  const junk = await cli(['restore', join(dataDir, 'junk.db')], env)
  t.equal(junk.code, 1)
  t.match(junk.errors[0], /fails its check: .*SQLITE_NOTADB.*GW_ERR_BACKUP_INVALID/)

  const foreign = join(dataDir, 'foreign.db')
  const db = new Sqlite(foreign)
  db.exec('CREATE TABLE t (x)')
  db.close()
  const f = await cli(['restore', foreign], env)
  t.equal(f.code, 1)
  t.match(f.errors[0], /not an AutoCore Gateway database/)
  t.same(
    readdirSync(dataDir).filter(n => n.includes('.replaced-') || n.includes('.restoring')),
    [],
    'nothing replaced, nothing left behind'
  )
  t.equal((await cli(['restore', join(dataDir, 'missing.db')], env)).code, 1)
})

t.test('on PostgreSQL (or :memory:) backup and restore say plainly what to use instead', async t => {
  const env = {
    AUTOCORE_DATA_DIR: t.testdir(),
    AUTOCORE_DATABASE_TYPE: 'postgres',
    AUTOCORE_DATABASE_URL: 'postgres://x@127.0.0.1/none'
  }
  const b = await cli(['backup'], env)
  t.equal(b.code, 1)
  t.match(b.errors[0], /SQLite only; with PostgreSQL use pg_dump/)
  const r = await cli(['restore', 'x.dump'], env)
  t.equal(r.code, 1)
  t.match(r.errors[0], /pg_dump/)
  const m = await cli(['backup'], { AUTOCORE_DATA_DIR: t.testdir(), AUTOCORE_DATABASE_FILE: ':memory:' })
  t.match(m.errors[0], /:memory:/)
  const none = await cli(['backup'], { AUTOCORE_DATA_DIR: t.testdir() })
  t.match(none.errors[0], /no database at/)
})

t.test('backup without --out rotates backup.dir to backup.keep', async t => {
  const dataDir = t.testdir()
  const env = { AUTOCORE_DATA_DIR: dataDir, AUTOCORE_BACKUP_KEEP: '2' }
  t.equal((await cli(['migrate'], env)).code, 0)
  for (let i = 0; i < 3; i++) {
    t.equal((await cli(['backup'], env)).code, 0)
    await new Promise(resolve => setTimeout(resolve, 3))
  }
  t.equal(readdirSync(join(dataDir, 'backups')).length, 2)
  writeFileSync(join(dataDir, 'backups', 'unrelated.txt'), 'kept')
  t.equal((await cli(['backup'], env)).code, 0)
  t.ok(existsSync(join(dataDir, 'backups', 'unrelated.txt')), 'rotation only touches backups')
})

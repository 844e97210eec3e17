import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { User } from '../../entities/index.js'
import { loadConfig } from '../../src/config/loader.js'
import { createLogger } from '../../src/log.js'
import { openDatabase, type Database } from '../../src/persistence/database.js'
import { createRepositories } from '../../src/persistence/repositories/index.js'

// TypeORM's better-sqlite3 driver shares one QueryRunner among all callers; without exclusiveTransactions
// (src/persistence/sqlite/gate.ts) the first test fails with "no such savepoint" and half-written macros, and
// the second loses the plain insert with the other transaction's rollback.

const later = async (): Promise<void> => await new Promise(resolve => setTimeout(resolve, 5))

async function open (t: Test): Promise<Database> {
  const dir = mkdtempSync(join(tmpdir(), 'autocore-tx-'))
  const db = await openDatabase(
    loadConfig({ env: {}, overrides: { dataDir: dir } }),
    createLogger({ log: { level: 'silent', pretty: 'never' } })
  )
  t.teardown(async () => { await db.close(); rmSync(dir, { recursive: true, force: true }) })
  return db
}

const macro = (name: string, n: number): Parameters<ReturnType<typeof createRepositories>['macros']['create']>[0] =>
  ({
    name,
    description: null,
    actions: Array.from({ length: n }, () => ({ type: 'delay' as const, params: { ms: 10 }, condition: null }))
  }) as never

t.test('concurrent transactions on the one connection each commit whole', async t => {
  const db = await open(t)
  const repos = createRepositories(db)
  const results = await Promise.allSettled([
    repos.macros.create(macro('a', 3), 1),
    repos.macros.create(macro('b', 3), 1),
    repos.users.create({ username: 'u1', role: 'viewer', passwordHash: 'x' }, 1),
    repos.users.create({ username: 'u1', role: 'viewer', passwordHash: 'x' }, 1),
    repos.macros.update(1, macro('a2', 2), 2),
    repos.devices.create({ uuid: 'd1', name: 'd', type: 'sensor', secretHash: 'x' }, 1)
  ])
  t.same(results.map(r => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
  t.match(
    String((results[3] as PromiseRejectedResult).reason),
    /UNIQUE constraint failed: users.username/,
    'only the duplicate is refused, for what it is'
  )
  const { rows } = await repos.macros.list({ limit: 10, offset: 0 })
  t.same(
    rows.map(r => [r.macro.name, r.actions.length]),
    [
      ['a2', 2],
      ['b', 3]
    ],
    'each macro with exactly its own actions'
  )
  t.same((await repos.users.list()).map(u => u.username), ['u1'])
  t.same((await repos.devices.list()).map(d => d.uuid), ['d1'])
})

t.test('a rolled-back transaction takes nothing else with it, and others wait for it to end', async t => {
  const db = await open(t)
  const users = db.dataSource.getRepository(User)
  const row = (username: string): Partial<User> => ({
    username,
    role: 'viewer',
    passwordHash: 'x',
    enabled: true,
    createdAt: 1,
    updatedAt: 1
  })
  const order: string[] = []
  const failing = db.dataSource.transaction(async m => {
    await m.insert(User, row('inside'))
    order.push('inside written')
    await later()
    await later()
    order.push('inside fails')
    throw new Error('boom')
  })
  await later()
  const outside = users.insert(row('outside')).then(() => { order.push('outside written') })
  const nested = db.dataSource.transaction(async m => {
    await m.insert(User, row('other transaction'))
    await m.transaction(async inner => { await inner.insert(User, row('savepoint')) })
    order.push('other transaction written')
  })
  await t.rejects(failing, /boom/)
  await Promise.all([outside, nested])
  t.same(
    order.slice(0, 2),
    ['inside written', 'inside fails'],
    'the plain insert and the second transaction waited for the first to end'
  )
  t.same(order.slice(2).sort(), ['other transaction written', 'outside written'])
  t.same(
    (await users.find()).map(u => u.username).sort(),
    ['other transaction', 'outside', 'savepoint'],
    'the rollback undid only its own row'
  )
})

t.test('a native write never lands inside a transaction that begins while it waits, whatever the timing', async t => {
  const db = await open(t)
  const repos = createRepositories(db)
  const lost: number[] = []
  for (let k = 0; k < 40; k++) {
    const failing = db.dataSource.transaction(async m => {
      await m.query('SELECT 1')
      await later()
      throw new Error('rolled back')
    }).catch(() => {})
    for (let i = 0; i < k; i++) await Promise.resolve()
    const { eventId } = await repos.outbox.insertEvent(
      { ts: k, level: 'info', eventType: 'probe', source: 'test' },
      { match: () => false, body: () => '{}' }
    )
    await failing
    const rows = await db.dataSource.query('SELECT id FROM event_logs WHERE id = ?', [eventId]) as unknown[]
    if (rows.length === 0) lost.push(k)
  }
  t.same(lost, [], 'every event reported written is still there after the other transaction rolled back')
})

t.test('a runner that holds the connection for a statement and then begins a transaction does not strand the ' +
  'others', async t => {
  const db = await open(t)
  const qr = db.dataSource.createQueryRunner()
  const first = qr.query('SELECT 1')
  let otherDone = false
  const other = db.dataSource.query('SELECT 2').then(() => { otherDone = true })
  await qr.startTransaction()
  await first
  await qr.query('SELECT 3')
  t.equal(otherDone, false, 'the other waits while the transaction is open')
  await qr.commitTransaction()
  await Promise.race([other, new Promise(resolve => setTimeout(resolve, 1000))])
  t.equal(otherDone, true, 'and runs once it ends')
})

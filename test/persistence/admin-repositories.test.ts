import 'reflect-metadata'
import t, { type Test } from 'tap'
import { DataSource } from 'typeorm'
import { entities } from '../../entities/index.js'
import { migrations } from '../../src/persistence/migrations/index.js'
import { DevicesRepository } from '../../src/persistence/repositories/devices.js'
import { EventsRepository } from '../../src/persistence/repositories/events.js'
import { UsersRepository } from '../../src/persistence/repositories/users.js'
import { WebhookOutboxRepository } from '../../src/persistence/repositories/webhook-outbox.js'
import { pgDataSource } from '../helpers/pg.js'

// The SQL behind device deletion (tombstones, the change feed) and the last-admin guard, on both engines.

async function checkRepositories (t: Test, ds: DataSource): Promise<void> {
  const devices = new DevicesRepository(ds)
  await devices.create({ uuid: 'dev-a', name: 'a', type: 'sensor', secretHash: 'h' }, 100)
  await devices.create({ uuid: 'dev-b', name: 'b', type: 'sensor', secretHash: 'h' }, 101)
  t.equal(await devices.remove('dev-a', 102), true)
  t.equal(await devices.remove('dev-a', 103), false, 'already gone')
  let ch = await devices.changes(99, 102)
  t.same([ch.changed.map(d => d.uuid), ch.deleted], [['dev-b'], ['dev-a']])
  t.same((await devices.changes(102, 200)).deleted, [], 'the deletion is at 102')
  await devices.create({ uuid: 'dev-a', name: 'a again', type: 'sensor', secretHash: 'h' }, 104)
  ch = await devices.changes(99, 104)
  t.same([ch.changed.map(d => d.uuid), ch.deleted], [['dev-b', 'dev-a'], []], 'provisioned again: no tombstone')
  t.equal(await devices.remove('dev-a', 105), true)
  t.equal(await devices.remove('dev-b', 105), true)
  t.same((await devices.changes(104, 105)).deleted, ['dev-a', 'dev-b'], 'tombstones upsert')
  t.match(await devices.page({ status: ['offline'] }, { limit: 10, offset: 0 }), { total: 0 })

  // A write in flight holds the horizon back to just before its stamp, on every write path.
  for (const write of [
    () => devices.create({ uuid: 'dev-c', name: 'c', type: 'sensor', secretHash: 'h' }, 500),
    () => devices.update('dev-c', { name: 'c2' }, 500),
    () => devices.remove('dev-c', 500)
  ]) {
    const running = write()
    t.equal(devices.horizon(1000), 499)
    await running
    t.equal(devices.horizon(1000), 999)
  }
  const events = new EventsRepository(ds)
  const outbox = new WebhookOutboxRepository(ds)
  const logging = events.track(
    500,
    async () =>
      await outbox.insertEvent(
        { ts: 500, level: 'info', eventType: 'x', source: 'test' },
        { match: () => true, body: () => '{}' }
      )
  )
  t.equal(events.horizon(1000), 499)
  await logging
  t.equal(events.horizon(1000), 999)
  t.match(await events.page({ limit: 10, offset: 0 }), { total: 1, items: [{ ts: 500, eventType: 'x' }] })

  const users = new UsersRepository(ds)
  await users.create({ username: 'root', role: 'admin', passwordHash: 'h' }, 1)
  await users.create({ username: 'ops', role: 'operator', passwordHash: 'h' }, 1)
  t.equal(await users.guardedUpdate('root', { enabled: false }, 2), 'last_admin')
  t.equal(await users.guardedUpdate('root', { role: 'viewer' }, 2), 'last_admin')
  t.equal(await users.guardedDelete('root'), 'last_admin')
  t.equal(await users.guardedUpdate('nobody', { enabled: false }, 2), 'not_found')
  t.equal(await users.guardedDelete('nobody'), 'not_found')
  t.equal(await users.guardedUpdate('ops', { role: 'admin' }, 3), 'done')
  t.equal(await users.guardedUpdate('root', { enabled: false, role: 'viewer' }, 4), 'done', 'another admin is enabled')
  t.match(await users.byUsername('root'), { enabled: false, role: 'viewer', updatedAt: 4 })
  t.equal(await users.guardedUpdate('ops', { enabled: false }, 5), 'last_admin')
  const both = await Promise.all([
    users.guardedUpdate('root', { enabled: true, role: 'admin' }, 6),
    users.guardedUpdate('ops', { passwordHash: 'h2' }, 6)
  ])
  t.same(both, ['done', 'done'])
  const demotions = await Promise.all([
    users.guardedUpdate('root', { role: 'operator' }, 7),
    users.guardedUpdate('ops', { role: 'operator' }, 7)
  ])
  t.same(demotions.sort(), ['done', 'last_admin'], 'two admins demoting each other: one stays')
  t.equal((await users.list()).filter(u => u.role === 'admin' && u.enabled).length, 1)
  const access = (await users.access()).sort((a, b) => a.role.localeCompare(b.role))
  t.same(
    access.map(u => [u.role, u.enabled]),
    [
      ['admin', true],
      ['operator', true]
    ],
    'what connections are rechecked against, booleans on both engines'
  )

  await devices.create({ uuid: 'dev-c', name: 'c', type: 'sensor', secretHash: 'h' }, 200)
  await devices.update('dev-c', { enabled: false }, 201)
  t.same(await devices.access(), [{ uuid: 'dev-c', enabled: false, secretHash: 'h', certSerial: null }])
  await devices.update('dev-c', { certSerial: 'c0ffee' }, 202)
  t.match(await devices.access(), [{ uuid: 'dev-c', certSerial: 'c0ffee' }], 'the serial its certificate must have')
}

t.test('on SQLite', async t => {
  const ds = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities, migrations })
  t.teardown(async () => { if (ds.isInitialized) await ds.destroy() })
  await ds.initialize()
  await ds.runMigrations()
  await checkRepositories(t, ds)
})

const url = process.env.AUTOCORE_TEST_PG_URL
if (url === undefined || url === '') {
  t.pass('AUTOCORE_TEST_PG_URL is unset: the PostgreSQL half needs a server and did not run')
} else {
  t.test('on PostgreSQL', async t => {
    const ds = await pgDataSource(t, url)
    await checkRepositories(t, ds)
  })
}

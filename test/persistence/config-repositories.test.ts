import 'reflect-metadata'
import t, { type Test } from 'tap'
import { DataSource } from 'typeorm'
import { Device, entities } from '../../entities/index.js'
import { migrations } from '../../src/persistence/migrations/index.js'
import { DeviceConfigRepository } from '../../src/persistence/repositories/device-config.js'
import { ThemesRepository } from '../../src/persistence/repositories/themes.js'
import { pgDataSource } from '../helpers/pg.js'

// The config and theme repositories write with hand-written SQL fragments (version bumps, the one-statement
// activation): the same checks on SQLite and, when a server is given, on PostgreSQL.

const NOW = 1_767_225_600_000
const url = process.env.AUTOCORE_TEST_PG_URL

async function checks (t: Test, ds: DataSource): Promise<void> {
  await ds.runMigrations()
  for (const uuid of ['dev-a', 'dev-b', 'dev-c']) {
    await ds.getRepository(Device).insert({ uuid, name: uuid, type: 'display', createdAt: NOW, updatedAt: NOW })
  }
  const configs = new DeviceConfigRepository(ds)
  t.equal(await configs.replace('dev-a', { page: 1 }, undefined, NOW + 1), 1)
  t.equal(await configs.replace('dev-a', { page: 2 }, 1, NOW + 2), 2, 'with the expected version')
  t.equal(await configs.replace('dev-a', { page: 3 }, 1, NOW + 3), 'conflict', 'with a stale one')
  t.equal(await configs.replace('nobody', {}, undefined, NOW), undefined)
  t.match(await configs.byUuid('dev-a'), { config: { page: 2 }, configVersion: 2, appliedConfigVersion: null })
  t.equal(await configs.replace('dev-b', { x: true }, undefined, NOW), 1)
  t.equal(await configs.setApplied('dev-b', 1, NOW + 5), true)
  t.equal(await configs.setApplied('dev-b', 1, NOW + 6), false, 'the same version again changes nothing')
  t.equal(await configs.setApplied('dev-a', 1, NOW + 5), true)
  const lagging = await configs.lagging({ limit: 10, offset: 0 })
  t.same(
    lagging.items.map(d => [d.uuid, d.configVersion, d.appliedConfigVersion]),
    [['dev-a', 2, 1]],
    'dev-b is current, dev-c has no config'
  )
  t.equal(lagging.total, 1)

  const themes = new ThemesRepository(ds)
  const one = await themes.create({ name: 'one', colors: { primary: '#111' }, fonts: null, deviceOverrides: null }, NOW)
  const two = await themes.create(
    {
      name: 'two',
      colors: { primary: '#222' },
      fonts: { size_base: 12 },
      deviceOverrides: { display: { fonts: { size_base: 16 } } }
    },
    NOW + 10
  )
  t.equal(await themes.latestVersion(), NOW + 10)
  t.equal(await themes.activate(one.id, NOW + 11), true)
  t.equal(await themes.activate(two.id, NOW + 12), true)
  t.equal(await themes.activate(999, NOW + 13), false)
  const active = await themes.active()
  t.match(active, {
    name: 'two',
    isActive: true,
    updatedAt: NOW + 12,
    deviceOverrides: { display: { fonts: { size_base: 16 } } }
  })
  t.match(
    await themes.byId(one.id),
    { isActive: false, updatedAt: NOW + 11 },
    'the other is inactive, its version kept'
  )
  t.equal(await themes.deleteInactive(two.id), false, 'the active theme stays')
  t.equal(await themes.deleteInactive(one.id), true)
  t.same((await themes.page({ limit: 10, offset: 0 })).items.map(x => x.name), ['two'])
}

t.test('on SQLite', async t => {
  const ds = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities, migrations, synchronize: false })
  t.teardown(async () => { if (ds.isInitialized) await ds.destroy() })
  await ds.initialize()
  await checks(t, ds)
})

if (url === undefined || url === '') {
  t.pass('AUTOCORE_TEST_PG_URL is unset: the PostgreSQL run needs a server and did not run')
} else {
  t.test('on PostgreSQL', async t => {
    const ds = await pgDataSource(t, url)
    await checks(t, ds)
  })
}

import { readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { EventLog } from '../../entities/event-log.js'
import { BackupService } from '../../src/services/backups.js'
import { deviceClient } from '../helpers/devices.js'
import { startApp } from '../helpers/app.js'

async function events (app: Awaited<ReturnType<typeof startApp>>, eventType: string): Promise<EventLog[]> {
  return await app.gateway.services.db.dataSource.getRepository(EventLog).findBy({ eventType })
}

async function healthOk (app: Awaited<ReturnType<typeof startApp>>): Promise<boolean> {
  return (await fetch(`${app.httpUrl}/health`)).status === 200
}

t.test('a garbage database file at start is moved aside, the last backup restored, the gateway up, a critical event ' +
  'logged', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir })
  const repo = first.gateway.services.db.dataSource.getRepository(EventLog)
  await repo.insert({ ts: 1, level: 'info', eventType: 'marker', source: 'test' })
  const backup = await new BackupService(first.gateway.services).backupNow()
  await repo.insert({ ts: 2, level: 'info', eventType: 'after-backup', source: 'test' })
  await first.stop()

  const db = join(dataDir, 'autocore.db')
  writeFileSync(db, Buffer.alloc(statSync(db).size, 0x41))

  const second = await startApp(t, { dataDir })
  t.ok(await healthOk(second), 'the gateway is up')
  const aside = readdirSync(dataDir).filter(f => /^autocore\.db\.corrupt-\d{8}T\d{9}Z$/.test(f))
  t.equal(aside.length, 1, 'the damaged file is kept beside, named .corrupt-<stamp>')
  t.equal((await events(second, 'marker')).length, 1, 'rows from the backup are back')
  t.equal((await events(second, 'after-backup')).length, 0, 'rows after the backup are lost, as expected')
  const [event] = await events(second, 'database.recovered')
  t.match(event, {
    level: 'critical',
    source: 'recovery',
    action: 'restored-backup',
    payload: { restoredFrom: backup.file, reason: /SQLITE_NOTADB/ }
  })
  t.ok(
    second.logs.some(l => l.msg === 'database corrupt, moved aside' && l.level === 50 && l.restoredFrom === backup.file)
  )
})

t.test('a truncated database with no backup: moved aside, an empty database migrated, critical event ' +
  'logged', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir })
  const repo = first.gateway.services.db.dataSource.getRepository(EventLog)
  await repo.insert(
    Array.from({ length: 3000 }, (_, i) => ({
      ts: i,
      level: 'info' as const,
      eventType: 'filler',
      source: 'test',
      payload: { pad: 'y'.repeat(300) }
    }))
  )
  await first.stop()
  const db = join(dataDir, 'autocore.db')
  truncateSync(db, Math.floor(statSync(db).size / 2))

  const second = await startApp(t, { dataDir })
  t.ok(await healthOk(second))
  t.equal((await events(second, 'filler')).length, 0, 'a fresh database')
  const [event] = await events(second, 'database.recovered')
  t.match(event, { level: 'critical', action: 'recreated-empty', payload: { reason: /malformed|SQLITE_CORRUPT/ } })
  t.equal(event.payload?.restoredFrom, undefined)
})

t.test('a backup that is itself damaged is skipped for an older good one', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir })
  const repo = first.gateway.services.db.dataSource.getRepository(EventLog)
  await repo.insert({ ts: 1, level: 'info', eventType: 'marker', source: 'test' })
  const service = new BackupService(first.gateway.services)
  const good = await service.backupNow()
  await new Promise(resolve => setTimeout(resolve, 5))
  const bad = await service.backupNow()
  await first.stop()
  writeFileSync(bad.file, 'not a database, not even close'.repeat(200))
  writeFileSync(join(dataDir, 'autocore.db'), 'garbage')

  const second = await startApp(t, { dataDir })
  const [event] = await events(second, 'database.recovered')
  t.equal(event.payload?.restoredFrom, good.file)
  t.equal((await events(second, 'marker')).length, 1)
})

t.test('a corrupted broker level store is moved aside and the broker starts empty, with a critical event', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir })
  await first.stop()
  const store = join(dataDir, 'mqtt')
  for (const f of readdirSync(store)) if (f.startsWith('MANIFEST')) writeFileSync(join(store, f), Buffer.alloc(200, 7))

  const second = await startApp(t, { dataDir })
  t.ok(await healthOk(second))
  const { client } = await deviceClient(t, second)
  t.ok(client.connected, 'devices can connect')
  t.equal(readdirSync(dataDir).filter(f => /^mqtt\.corrupt-\d{8}T\d{9}Z$/.test(f)).length, 1)
  const [event] = await events(second, 'broker-store.recovered')
  t.match(event, { level: 'critical', source: 'recovery', payload: { reason: /LEVEL_CORRUPTION/ } })
  t.ok(second.logs.some(l => l.msg === 'broker store corrupt, moved aside'))
})

t.test('a healthy store is left alone: no event, nothing moved', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir })
  await first.stop()
  const second = await startApp(t, { dataDir })
  t.same(readdirSync(dataDir).filter(f => f.includes('.corrupt-')), [])
  t.equal((await second.gateway.services.db.dataSource.getRepository(EventLog).findBy({ level: 'critical' })).length, 0)
})

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { acquireDataLock, lockHolder } from '../../src/persistence/data-lock.js'
import { startApp, testConfig, captureLogger } from '../helpers/app.js'
import { Gateway } from '../../src/app.js'

t.test('a running gateway holds the data directory; a second one on it is refused; stop releases it', async t => {
  const dataDir = t.testdir()
  const app = await startApp(t, { dataDir })
  t.match(lockHolder(dataDir), { pid: process.pid, what: 'gateway' })
  await t.rejects(Gateway.start({ config: testConfig(dataDir), log: captureLogger().log }), {
    code: 'GW_ERR_DATA_DIR_LOCKED'
  })
  t.ok(await (await fetch(`${app.httpUrl}/health`)).ok, 'the refused start left the running one alone')
  await app.stop()
  t.equal(lockHolder(dataDir), undefined)
})

t.test('a stale lock (its process is gone) is taken over, so a crash or power cut never keeps the gateway ' +
  'down', async t => {
  const dataDir = t.testdir()
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  writeFileSync(
    join(dataDir, 'gateway.lock'),
    JSON.stringify({ pid: Number(dead.stdout), what: 'gateway', since: 0, token: 'old' })
  )
  t.equal(lockHolder(dataDir), undefined)
  const lock = acquireDataLock(dataDir, 'test', 1)
  t.equal(lockHolder(dataDir)?.token, lock.holder.token)
  lock.release()
  t.equal(lockHolder(dataDir), undefined)
})

t.test('a lock from before a reboot is stale even if its pid is alive now', async t => {
  const dataDir = t.testdir()
  writeFileSync(
    join(dataDir, 'gateway.lock'),
    JSON.stringify({ pid: process.pid, what: 'gateway', since: 0, bootId: 'another-boot', token: 'old' })
  )
  t.equal(lockHolder(dataDir), undefined)
  writeFileSync(
    join(dataDir, 'gateway.lock'),
    JSON.stringify({ pid: process.pid, what: 'gateway', since: 0, startTicks: '1', token: 'old' })
  )
  t.equal(lockHolder(dataDir), undefined, 'same pid, another process (start time differs)')
  writeFileSync(join(dataDir, 'gateway.lock'), 'half-written{')
  t.equal(lockHolder(dataDir), undefined, 'an unreadable lock is stale')
})

t.test('release never removes a lock another process took over', async t => {
  const dataDir = t.testdir()
  const lock = acquireDataLock(dataDir, 'test', 1)
  const other = JSON.stringify({ pid: process.pid, what: 'other', since: 2, token: 'theirs' })
  writeFileSync(join(dataDir, 'gateway.lock'), other)
  lock.release()
  t.equal(readFileSync(join(dataDir, 'gateway.lock'), 'utf8'), other)
})

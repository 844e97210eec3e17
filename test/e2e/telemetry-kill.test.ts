import t, { type Test } from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { startApp } from '../helpers/app.js'
import { createUser, provisionDevice } from '../helpers/devices.js'
import { connect, waitFor } from '../helpers/mqtt.js'
import { gatewayEnv, runGateway } from '../helpers/process.js'
import { topicOf } from '../../src/protocol/index.js'

/** A device row in `dataDir`, made by an in-process gateway that is stopped again before the real process starts. */
async function provisionIn (
  t: Test,
  dataDir: string
): Promise<{ uuid: string, secret: string, viewer: { username: string, password: string } }> {
  const app = await startApp(t, { dataDir })
  const device = await provisionDevice(app)
  const viewer = await createUser(app, { role: 'viewer' })
  await app.stop()
  return { ...device, viewer }
}

/** Every stored `seq` of the device, read back through the API of a restarted gateway. */
async function storedSeqs (
  httpPort: number,
  uuid: string,
  viewer: { username: string, password: string }
): Promise<Set<number>> {
  const login = await fetch(`http://127.0.0.1:${httpPort}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(viewer) })
  const { token } = await login.json() as { token: string }
  const seqs = new Set<number>()
  let cursor: string | null = ''
  while (cursor !== null) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/telemetry/${uuid}?key=seq&from=0&limit=1000${cursor === '' ? '' : `&cursor=${cursor}`}`, { headers: { authorization: `Bearer ${token}` } })
    const page = await res.json() as { items: Array<{ value: number }>, next: string | null }
    for (const r of page.items) seqs.add(r.value)
    cursor = page.next
  }
  return seqs
}

t.test('kill -9 mid-stream: every QoS 1 reading that got a PUBACK is in the database after restart', async t => {
  const dataDir = t.testdir()
  const { uuid, secret, viewer } = await provisionIn(t, dataDir)
  const gw = runGateway(t, ['start'], gatewayEnv(dataDir))
  const { mqttPort } = await gw.waitForLog('gateway started')
  const client = await connect(t, `mqtt://127.0.0.1:${mqttPort}`, { clientId: uuid, username: uuid, password: secret })
  client.on('error', () => {})

  const TOTAL = 5000
  const KILL_AT = 1500
  const acked = new Set<number>()
  for (let i = 0; i < TOTAL; i++) {
    client.publish(topicOf('deviceTelemetry', { uuid }), JSON.stringify({ seq: i }), { qos: 1 }, err => {
      if (err !== undefined && err !== null) return
      acked.add(i)
      if (acked.size === KILL_AT) gw.child.kill('SIGKILL')
    })
  }
  t.same(await gw.exited, { code: null, signal: 'SIGKILL' })
  await new Promise(resolve => setImmediate(resolve))
  t.ok(acked.size >= KILL_AT && acked.size < TOTAL, `killed mid-stream (${acked.size} of ${TOTAL} acknowledged)`)

  const again = runGateway(t, ['start'], gatewayEnv(dataDir))
  const { httpPort } = await again.waitForLog('gateway started')
  const stored = await storedSeqs(httpPort, uuid, viewer)
  const lost = [...acked].filter(i => !stored.has(i))
  t.same(
    lost,
    [],
    `0 acknowledged readings lost (${stored.size} stored: committed ones whose PUBACK was cut off are kept too)`
  )
  again.child.kill('SIGTERM')
  await again.exited
})

/** Every stored `seq` of the device, in the order the API gave them (duplicates kept). */
async function storedSeqList (
  httpPort: number,
  uuid: string,
  viewer: { username: string, password: string }
): Promise<number[]> {
  const login = await fetch(`http://127.0.0.1:${httpPort}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(viewer) })
  const { token } = await login.json() as { token: string }
  const seqs: number[] = []
  let cursor: string | null = ''
  while (cursor !== null) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/telemetry/${uuid}?key=seq&from=0&limit=1000${cursor === '' ? '' : `&cursor=${cursor}`}`, { headers: { authorization: `Bearer ${token}` } })
    const page = await res.json() as { items: Array<{ value: number }>, next: string | null }
    for (const r of page.items) seqs.push(r.value)
    cursor = page.next
  }
  return seqs
}

// Issue 18: with the chunk store, the retention job closes chunks every second while the device publishes
// readings of hours already over (device time `ts`), so readings are moved from the head into chunks while they
// arrive and when the process is killed; none acknowledged may be lost, none may be stored twice.
t.test('kill -9 with the chunk store closing chunks: 0 acknowledged readings lost, none doubled', async t => {
  const dataDir = t.testdir()
  const { uuid, secret, viewer } = await provisionIn(t, dataDir)
  const env = gatewayEnv(dataDir, {
    AUTOCORE_TELEMETRY_CHUNK_STORE: 'true',
    AUTOCORE_TELEMETRY_RETENTION_INTERVAL_MS: '1000'
  })
  const gw = runGateway(t, ['start'], env)
  const { mqttPort } = await gw.waitForLog('gateway started')
  const client = await connect(t, `mqtt://127.0.0.1:${mqttPort}`, { clientId: uuid, username: uuid, password: secret })
  client.on('error', () => {})

  const TOTAL = 20_000
  const KILL_AT = 12_000
  // Two days ago, one reading every 2 s of device time: 11 hours, every one of them closable at once.
  const base = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000
  const acked = new Set<number>()
  let i = 0
  // Published in waves, so the retention passes (every second) run between them and during the kill.
  const wave = (): void => {
    for (const end = Math.min(TOTAL, i + 2000); i < end; i++) {
      const seq = i
      const body = JSON.stringify({ seq, ts: base + seq * 2000 })
      client.publish(topicOf('deviceTelemetry', { uuid }), body, { qos: 1 }, err => {
        if (err !== undefined && err !== null) return
        acked.add(seq)
        if (acked.size === KILL_AT) gw.child.kill('SIGKILL')
      })
    }
    if (i < TOTAL) setTimeout(wave, 300)
  }
  wave()
  t.same(await gw.exited, { code: null, signal: 'SIGKILL' })
  await new Promise(resolve => setImmediate(resolve))
  t.ok(acked.size >= KILL_AT && acked.size < TOTAL, `killed mid-stream (${acked.size} of ${TOTAL} acknowledged)`)
  // What the killed process left: readings already in chunks, and (most runs) some still in the head.
  const db = new Database(join(dataDir, 'autocore.db'))
  const [chunks, head] = ['telemetry_chunks', 'telemetry_data'].map(
    table => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  )
  db.close()
  t.ok(
    chunks > 0,
    `chunks were closed while readings arrived (${chunks} chunks, ${head} readings in the head at the kill)`
  )

  const again = runGateway(t, ['start'], env)
  const { httpPort } = await again.waitForLog('gateway started')
  const check = async (when: string): Promise<void> => {
    const list = await storedSeqList(httpPort, uuid, viewer)
    const stored = new Set(list)
    t.same([...acked].filter(s => !stored.has(s)), [], `${when}: 0 acknowledged readings lost (${stored.size} stored)`)
    t.equal(list.length, stored.size, `${when}: no reading stored twice`)
  }
  await check('right after restart')
  // The restarted gateway's retention closes what the head still holds.
  await again.waitForLog('retention pass')
  await check('after the next retention pass')
  again.child.kill('SIGTERM')
  await again.exited
})

/*
 * Which QoS 0 readings "reached the gateway"? The test asks the gateway: /health reports the readings accepted
 * and not yet written (telemetry.buffered). With a flush interval and batch size far beyond the test, none is
 * written before SIGTERM, so everything counted there exists only in memory and must survive the shutdown.
 * (A QoS 1 marker published after the QoS 0 readings would also prove arrival — Aedes hands one connection's
 * packets to the publish pipeline in order and our step buffers QoS 0 synchronously — but its PUBACK would wait
 * for a commit that also writes the earlier readings, so it could not test the shutdown flush.)
 */
t.test('SIGTERM: every QoS 0 reading that reached the gateway is written before exit', async t => {
  const dataDir = t.testdir()
  const { uuid, secret, viewer } = await provisionIn(t, dataDir)
  const env = gatewayEnv(dataDir, {
    AUTOCORE_TELEMETRY_FLUSH_INTERVAL_MS: '600000',
    AUTOCORE_TELEMETRY_BATCH_SIZE: '100000'
  })
  const gw = runGateway(t, ['start'], env)
  const { mqttPort, httpPort } = await gw.waitForLog('gateway started')
  const client = await connect(t, `mqtt://127.0.0.1:${mqttPort}`, { clientId: uuid, username: uuid, password: secret })
  client.on('error', () => {})

  const TOTAL = 3000
  for (let i = 0; i < TOTAL; i++) {
    client.publish(topicOf('deviceTelemetry', { uuid }), JSON.stringify({ seq: i }), { qos: 0 })
  }
  let health: { telemetry: { buffered: number, written: number } } | undefined
  await waitFor(() => {
    void fetch(`http://127.0.0.1:${httpPort}/health`).then(async r => { health = await r.json() as typeof health }, () => {})
    return health?.telemetry.buffered === TOTAL
  }, 10_000)
  t.equal(health?.telemetry.written, 0, 'all in memory, none written yet')

  gw.child.kill('SIGTERM')
  t.same(await gw.exited, { code: 0, signal: null })
  const again = runGateway(t, ['start'], gatewayEnv(dataDir))
  const restarted = await again.waitForLog('gateway started')
  const stored = await storedSeqs(restarted.httpPort, uuid, viewer)
  t.equal(stored.size, TOTAL, '0 lost')
  again.child.kill('SIGTERM')
  await again.exited
})

import t from 'tap'
import { startApp, type RunningApp } from '../helpers/app.js'
import { deviceClient, provisionDevice, userClient } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { connect, nextMessage, type Client } from '../helpers/mqtt.js'

const statusTopic = (uuid: string): string => `autocore/devices/${uuid}/status`

async function stored (
  app: RunningApp,
  uuid: string
): Promise<{ status: string, lastSeen: number | null, firmware: string | null, ipAddress: string | null }> {
  const d = await app.gateway.services.repos.devices.byUuid(uuid)
  if (d === undefined) throw new Error('no device')
  return d
}

async function statusBecomes (app: RunningApp, uuid: string, status: string): Promise<void> {
  let now = ''
  const until = Date.now() + 5000
  while (now !== status) {
    if (Date.now() > until) throw new Error(`${uuid} stayed ${now}, wanted ${status}`)
    now = (await stored(app, uuid)).status
    if (now !== status) await new Promise(resolve => setTimeout(resolve, 5))
  }
}

async function watch (t: Parameters<typeof startApp>[0], app: RunningApp): Promise<Client> {
  const { client } = await userClient(t, app, 'viewer')
  await client.subscribeAsync('autocore/devices/+/status', { qos: 1 })
  await client.subscribeAsync('autocore/events/+', { qos: 0 })
  return client
}

/** The next `type` event about `uuid` (events about other devices are skipped). */
async function eventFor (viewer: Client, type: string, uuid: string): Promise<Record<string, any>> {
  for (;;) {
    const m = await nextMessage(viewer, topic => topic === `autocore/events/${type}`)
    const body = JSON.parse(m.payload.toString())
    if (body.target === uuid) return body
  }
}

async function lastStatus (viewer: Client, uuid: string, status: string): Promise<void> {
  for (;;) {
    const m = await nextMessage(viewer, statusTopic(uuid))
    if (JSON.parse(m.payload.toString()).status === status) return
  }
}

t.test('connect and announce: online, event, retained status, firmware and address stored', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const viewer = await watch(t, app)
  const dev = await deviceClient(t, app)
  await statusBecomes(app, dev.uuid, 'online')
  t.match(await eventFor(viewer, 'device_connected', dev.uuid), {
    level: 'info',
    source: 'presence',
    payload: { via: 'connect', ip: '127.0.0.1' }
  })
  await lastStatus(viewer, dev.uuid, 'online')
  await dev.client.publishAsync(
    `autocore/devices/${dev.uuid}/announce`,
    JSON.stringify({ type: 'relay_board', firmware: '1.2.3', mac: 'AA:BB:CC:DD:EE:FF' }),
    { qos: 1 }
  )
  for (let i = 0; i < 100 && (await stored(app, dev.uuid)).firmware !== '1.2.3'; i++) {
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  t.match(await stored(app, dev.uuid), {
    status: 'online',
    firmware: '1.2.3',
    ipAddress: '127.0.0.1',
    lastSeen: clock.now()
  })
  t.equal(app.gateway.services.broker.aedes.connectedClients >= 2, true)
})

t.test('will, clean disconnect and silence each take a device offline, with a truthful retained status', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const viewer = await watch(t, app)

  const a = await provisionDevice(app)
  const withWill = await connect(t, app.mqttUrl, {
    clientId: a.uuid,
    username: a.uuid,
    password: a.secret,
    will: { topic: statusTopic(a.uuid), payload: Buffer.from('{"status":"offline"}'), qos: 1, retain: true }
  })
  await statusBecomes(app, a.uuid, 'online')
  withWill.stream.destroy()
  await statusBecomes(app, a.uuid, 'offline')
  t.match(await eventFor(viewer, 'device_offline', a.uuid), { payload: { reason: 'will' } })

  const b = await deviceClient(t, app)
  await statusBecomes(app, b.uuid, 'online')
  await lastStatus(viewer, b.uuid, 'online')
  await b.client.endAsync()
  await statusBecomes(app, b.uuid, 'offline')
  t.match(await eventFor(viewer, 'device_offline', b.uuid), { payload: { reason: 'disconnect' } })
  await lastStatus(viewer, b.uuid, 'offline')

  const c = await deviceClient(t, app)
  await statusBecomes(app, c.uuid, 'online')
  t.match(await eventFor(viewer, 'device_connected', c.uuid), { payload: { via: 'connect' } })
  await lastStatus(viewer, c.uuid, 'online')
  await clock.tick(60_000)
  t.equal((await stored(app, c.uuid)).status, 'online', 'within devices.offlineAfterS')
  await clock.tick(65_000)
  await statusBecomes(app, c.uuid, 'offline')
  t.match(await eventFor(viewer, 'device_offline', c.uuid), { level: 'warning', payload: { reason: 'timeout' } })
  await lastStatus(viewer, c.uuid, 'offline')
  await c.client.publishAsync(`autocore/devices/${c.uuid}/telemetry`, '{"v":1}', { qos: 1 })
  await statusBecomes(app, c.uuid, 'online')
  t.match(await eventFor(viewer, 'device_connected', c.uuid), { payload: { via: 'message' } })
})

t.test('restart: every device is offline until it connects again (issue 14); its last_seen is kept', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, clock: new FakeClock() })
  const back = await deviceClient(t, first, { mqtt: { reconnectPeriod: 0 } })
  const gone = await deviceClient(t, first)
  await statusBecomes(first, back.uuid, 'online')
  await statusBecomes(first, gone.uuid, 'online')
  const seenBefore = (await stored(first, gone.uuid)).lastSeen
  await first.stop()

  const clock = new FakeClock(Date.UTC(2026, 0, 2))
  const second = await startApp(t, { dataDir, clock })
  await statusBecomes(second, gone.uuid, 'offline')
  await statusBecomes(second, back.uuid, 'offline')
  t.equal(
    (await stored(second, gone.uuid)).lastSeen,
    seenBefore,
    'last_seen is the last time it was heard, not the restart'
  )
  t.notOk(second.gateway.services.commands.isOnline(back.uuid))
  const viewer = await watch(t, second)
  await lastStatus(viewer, gone.uuid, 'offline')
  await connect(t, second.mqttUrl, { clientId: back.uuid, username: back.uuid, password: back.secret })
  await statusBecomes(second, back.uuid, 'online')
  await lastStatus(viewer, back.uuid, 'online')
  t.ok(second.gateway.services.commands.isOnline(back.uuid), 'the commands service saw the same device.online')
  const offline = await second.gateway.services.repos.events.recent({ eventType: 'device_offline' })
  t.same(
    offline.map(e => [e.target, (e.payload as { reason: string }).reason]).sort(),
    [
      [back.uuid, 'restart'],
      [gone.uuid, 'restart']
    ].sort()
  )
  const connected = await second.gateway.services.repos.events.recent({ eventType: 'device_connected' })
  t.equal(connected.length, 3, 'the two of the first run, then one')
  t.equal(connected[0].target, back.uuid, 'the device that came back')
})

t.test('a takeover\'s will does not take the device offline', async t => {
  const app = await startApp(t, { clock: new FakeClock() })
  const viewer = await watch(t, app)
  const d = await provisionDevice(app)
  const opts = {
    clientId: d.uuid,
    username: d.uuid,
    password: d.secret,
    will: { topic: statusTopic(d.uuid), payload: Buffer.from('{"status":"offline"}'), qos: 1 as const, retain: true }
  }
  const first = await connect(t, app.mqttUrl, opts)
  await statusBecomes(app, d.uuid, 'online')
  const closed = new Promise(resolve => first.once('close', resolve))
  await connect(t, app.mqttUrl, opts)
  await closed
  await lastStatus(viewer, d.uuid, 'offline') // the old connection's will, as MQTT requires
  await lastStatus(viewer, d.uuid, 'online') // then the truth
  await statusBecomes(app, d.uuid, 'online')
})

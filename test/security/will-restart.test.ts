import { join } from 'node:path'
import { createRequire } from 'node:module'
import { ClassicLevel } from 'classic-level'
import t, { type Test } from 'tap'
import { startApp } from '../helpers/app.js'
import { createUser, provisionDevice } from '../helpers/devices.js'
import { collect, connect, waitFor } from '../helpers/mqtt.js'
import { gatewayEnv, runGateway } from '../helpers/process.js'

// Issue #13 item 2: stored wills after an unclean restart (kill -9 of the real process).

const msgpack = createRequire(import.meta.url)('msgpack-lite') as { encode: (v: unknown) => Buffer }

async function provisionIn (
  t: Test,
  dataDir: string
): Promise<{
  uuid: string
  secret: string
  second: { uuid: string, secret: string }
  viewer: { username: string, password: string }
  admin: { username: string, password: string }
}> {
  const app = await startApp(t, { dataDir })
  const device = await provisionDevice(app)
  const second = await provisionDevice(app)
  const viewer = await createUser(app, { role: 'viewer' })
  const admin = await createUser(app, { role: 'admin' })
  await app.stop()
  return { ...device, second, viewer, admin }
}

async function loginAt (httpPort: number, user: { username: string, password: string }): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) })
  return ((await res.json()) as { token: string }).token
}

const pause = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

t.test('2: forged wills are neither delivered nor acted on after kill -9 and restart; the owner\'s own will still ' +
  'is', async t => {
  const dataDir = t.testdir()
  const { uuid, secret, second, viewer, admin } = await provisionIn(t, dataDir)
  // Aedes publishes the wills of a dead broker every 4 heartbeats.
  const env = gatewayEnv(dataDir, { AUTOCORE_MQTT_HEARTBEAT_INTERVAL_MS: '100' })
  const gw = runGateway(t, ['start'], env)
  const first = await gw.waitForLog('gateway started')
  const url = `mqtt://127.0.0.1:${String(first.mqttPort)}`
  const adminToken = await loginAt(first.httpPort as number, admin)
  const viewerToken = await loginAt(first.httpPort as number, viewer)

  const stop = await fetch(`http://127.0.0.1:${String(first.httpPort)}/api/v1/emergency/stop`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{"reason":"test"}' })
  t.equal(stop.status, 200, 'the emergency stop is active before the crash')

  // The device's own will, and a viewer's forged ones.
  const device = await connect(t, url, {
    clientId: uuid,
    username: uuid,
    password: secret,
    will: {
      topic: `autocore/devices/${uuid}/status`,
      payload: Buffer.from('{"status":"offline","uptime":4242}'),
      qos: 1,
      retain: true
    }
  })
  device.on('error', () => {})
  // A will that was the owner's to set, by a device disabled while the gateway was down.
  const disabled = await connect(t, url, {
    clientId: second.uuid,
    username: second.uuid,
    password: second.secret,
    will: {
      topic: `autocore/relays/${second.uuid}/state`,
      payload: Buffer.from('{"channels":{"1":true}}'),
      qos: 1,
      retain: true
    }
  })
  disabled.on('error', () => {})
  const forged: Array<[string, string, boolean]> = [
    ['autocore/emergency/reset', '{}', false],
    [`autocore/devices/${uuid}/command`, JSON.stringify({ command_id: 'w1', command: 'reboot', params: {} }), false],
    [`autocore/relays/${uuid}/command`, JSON.stringify({ command_id: 'w2', channel: 1, action: 'on' }), true],
    ['autocore/emergency/state', '{"active":false}', true]
  ]
  for (const [i, [topic, payload, retain]] of forged.entries()) {
    const code = await connect(t, url, {
      clientId: `forger-${i}`,
      username: viewer.username,
      password: viewerToken,
      will: { topic, payload: Buffer.from(payload), qos: 1, retain }
    }).then(
      c => {
        c.on('error', () => {})
        return 0
      },
      (err: { code?: number }) => err.code
    )
    t.equal(code, 5, `a viewer's will on ${topic}: CONNACK 5`)
  }

  gw.child.kill('SIGKILL')
  await gw.exited

  // Wills stored without an owner (by a version before this one, or written behind the gateway's back): Aedes
  // publishes them with client null, which nothing may trust.
  const level = new ClassicLevel<string, Buffer>(join(dataDir, 'mqtt'), { valueEncoding: 'buffer' })
  await level.open()
  const legacy = (clientId: string, topic: string, payload: string, retain: boolean): Promise<void> =>
    level.put(
      `will:${clientId}`,
      msgpack.encode({
        cmd: 'publish',
        topic,
        payload: Buffer.from(payload),
        qos: 1,
        retain,
        clientId,
        brokerId: 'a-broker-long-gone'
      })
    )
  await legacy('legacy-1', 'autocore/emergency/reset', '{}', false)
  await legacy(
    'legacy-2',
    `autocore/relays/${uuid}/command`,
    JSON.stringify({ command_id: 'w3', channel: 1, action: 'on' }),
    true
  )
  await legacy(
    'legacy-3',
    `autocore/devices/${uuid}/command`,
    JSON.stringify({ command_id: 'w4', command: 'reboot', params: {} }),
    false
  )
  await level.close()
  const offline = await startApp(t, { dataDir })
  await offline.gateway.services.repos.devices.update(second.uuid, { enabled: false }, Date.now())
  await offline.stop()

  const again = runGateway(t, ['start'], env)
  const restarted = await again.waitForLog('gateway started')
  const url2 = `mqtt://127.0.0.1:${String(restarted.mqttPort)}`
  const adminToken2 = await loginAt(restarted.httpPort as number, admin)
  const observer = await connect(t, url2, { clientId: 'observer', username: admin.username, password: adminToken2 })
  const seen = collect(observer)
  await observer.subscribeAsync('#', { qos: 1 })
  await waitFor(
    () => seen.some(m => m.topic === `autocore/devices/${uuid}/status` && m.payload.includes('4242')),
    15_000
  )
  t.pass('the device\'s own will was published after the restart (wills were processed)')
  await pause(1000)

  t.same(
    seen.filter(m => m.topic === 'autocore/emergency/reset' || m.topic.endsWith('/command')).map(m => m.topic),
    [],
    'no forged reset or command was delivered'
  )
  t.same(
    seen.filter(m => m.topic === `autocore/relays/${second.uuid}/state`),
    [],
    'the disabled device\'s will was not published'
  )
  const res = await fetch(`http://127.0.0.1:${String(restarted.httpPort)}/api/v1/emergency`, { headers: { authorization: `Bearer ${adminToken2}` } })
  t.match(await res.json(), { active: true }, 'the emergency stop is still active')

  const late = await connect(t, url2, { clientId: 'late', username: admin.username, password: adminToken2 })
  const retained = collect(late)
  await late.subscribeAsync(
    [
      'autocore/relays/+/command',
      'autocore/devices/+/command',
      'autocore/emergency/#',
      `autocore/relays/${second.uuid}/state`
    ],
    { qos: 1 }
  )
  await waitFor(() => retained.some(m => m.topic === 'autocore/emergency/state'))
  await pause(300)
  t.same(
    retained.filter(m => m.topic.endsWith('/command') || m.topic.includes(second.uuid)),
    [],
    'no forged command was retained, nor the disabled device\'s will'
  )
  t.match(
    JSON.parse(retained.find(m => m.topic === 'autocore/emergency/state')?.payload ?? '{}'),
    { active: true },
    'the retained emergency state is the gateway\'s'
  )
  again.child.kill('SIGTERM')
  await again.exited
})

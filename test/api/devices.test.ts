import t from 'tap'
import { retainedMessages } from '../../src/broker/retained.js'
import { topicOf, familyTopic } from '../../src/protocol/index.js'
import { runCli } from '../../src/cli/index.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { provisionDevice, userClient } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { collect, connect, nextMessage } from '../helpers/mqtt.js'
import { harness, type Harness, type Res } from './cases/harness.js'

const uuids = (res: Res): string[] => res.body.items.map((d: { uuid: string }) => d.uuid)

async function changes (h: Harness, since: number | string): Promise<Res> {
  const res = await h.call('GET', '/devices/changes', { token: await h.token('viewer'), query: { since } })
  if (res.status !== 200) throw new Error(`changes: ${res.status} ${JSON.stringify(res.body)}`)
  return res
}

async function connackOf (app: RunningApp, uuid: string, password: string): Promise<number> {
  return await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password }).then(
    c => {
      c.end(true)
      return 0
    },
    (e: { code: number }) => e.code
  )
}

t.test('GET /devices/changes?since= returns exactly the devices changed after since, with a cursor that misses and ' +
  'repeats nothing', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const h = harness(app)
  clock.advance(10)
  const t0 = clock.now()
  const a = await provisionDevice(app)
  clock.advance(1)
  const b = await provisionDevice(app)
  clock.advance(1)

  let res = await changes(h, t0)
  t.same(uuids(res), [b.uuid], 'a change exactly at since is not returned; one 1 ms after is')
  t.equal(res.body.cursor, t0 + 1)
  t.same(uuids(await changes(h, t0 - 1)), [a.uuid, b.uuid], 'oldest change first')
  t.same(uuids(await changes(h, new Date(t0).toISOString())), [b.uuid], 'since may be ISO 8601')
  t.same(uuids(await changes(h, '1970-01-01')), [a.uuid, b.uuid], 'or a date')

  let cursor = res.body.cursor as number
  res = await changes(h, cursor)
  t.same([uuids(res), res.body.deleted, res.body.cursor], [[], [], cursor], 'nothing changed: nothing, same cursor')

  await app.gateway.services.repos.devices.update(a.uuid, { name: 'renamed' }, clock.now())
  t.same(
    uuids(await changes(h, cursor)),
    [],
    'a change in the current millisecond waits: another one may still come in it'
  )
  clock.advance(1)
  res = await changes(h, cursor)
  t.match(res.body.items, [{ uuid: a.uuid, name: 'renamed' }], 'then it is returned, once')
  cursor = res.body.cursor

  // Presence writes bump updated_at: online, last_seen, offline all show up.
  const c = await connect(t, app.mqttUrl, { clientId: a.uuid, username: a.uuid, password: a.secret })
  await waitUntil(async () => (await app.gateway.services.repos.devices.byUuid(a.uuid))?.status === 'online')
  clock.advance(1)
  res = await changes(h, cursor)
  t.match(
    res.body.items,
    [{ uuid: a.uuid, status: 'online', lastSeen: new Date(cursor + 1).toISOString() }],
    'going online is a change'
  )
  cursor = res.body.cursor

  await c.publishAsync(`autocore/devices/${a.uuid}/telemetry`, '{"temp": 21}', { qos: 1 })
  const seenAt = clock.now()
  await clock.tick(30_000) // the presence sweep flushes last_seen
  await waitUntil(async () => (await app.gateway.services.repos.devices.byUuid(a.uuid))?.lastSeen === seenAt)
  clock.advance(1)
  res = await changes(h, cursor)
  t.match(
    res.body.items,
    [{ uuid: a.uuid, status: 'online', lastSeen: new Date(seenAt).toISOString() }],
    'a last_seen flush is a change'
  )
  cursor = res.body.cursor

  await c.endAsync()
  await waitUntil(async () => (await app.gateway.services.repos.devices.byUuid(a.uuid))?.status === 'offline')
  clock.advance(1)
  res = await changes(h, cursor)
  t.match(res.body.items, [{ uuid: a.uuid, status: 'offline' }], 'going offline is a change')
  t.equal(res.body.items.length, 1)
  cursor = res.body.cursor

  // Deletions are reported by UUID; provisioning the UUID again makes it a plain change.
  const admin = await h.token('admin')
  t.equal((await h.call('DELETE', `/devices/${b.uuid}`, { token: admin })).status, 204)
  clock.advance(1)
  res = await changes(h, cursor)
  t.same([uuids(res), res.body.deleted], [[], [b.uuid]], 'a deletion is reported once')
  const beforeDelete = cursor
  cursor = res.body.cursor
  t.same((await changes(h, cursor)).body.deleted, [], 'and not again')
  t.equal(
    (await h.call('POST', '/devices', { token: admin, body: { name: 'back', type: 'sensor', uuid: b.uuid } })).status,
    201
  )
  clock.advance(1)
  res = await changes(h, beforeDelete)
  t.same([uuids(res), res.body.deleted], [[b.uuid], []], 'provisioned again: a change, no longer a deletion')

  const bad = await h.call('GET', '/devices/changes', { token: admin, query: { since: 'yesterday' } })
  t.match(bad, {
    status: 400,
    body: { error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'query', field: 'since' }] } }
  })
  const impossible = await h.call('GET', '/devices/changes', { token: admin, query: { since: '2026-13-45' } })
  t.match(impossible, {
    status: 400,
    body: {
      error: {
        code: 'GW_ERR_HTTP_VALIDATION',
        details: [{ in: 'query', field: 'since', message: 'is not a valid time' }]
      }
    }
  })
})

async function waitUntil (cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!await cond()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

t.test('a device provisioned over the API connects with its secret; rotate-secret and delete lock the old ones ' +
  'out', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const admin = await h.token('admin')
  const created = await h.call('POST', '/devices', {
    token: admin,
    body: { name: 'Front relays', type: 'relay_board' }
  })
  t.equal(created.status, 201)
  const { uuid, secret } = created.body
  const c1 = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret })
  t.equal(c1.connected, true, 'the shown secret connects')

  const rotated = await h.call('POST', `/devices/${uuid}/rotate-secret`, { token: admin })
  t.equal(rotated.status, 200)
  t.not(rotated.body.secret, secret)
  t.equal(await connackOf(app, uuid, secret), 4, 'the old secret is refused (CONNACK 4)')
  const will = {
    topic: `autocore/devices/${uuid}/status`,
    payload: Buffer.from('{"status":"offline"}'),
    qos: 1 as const,
    retain: true
  }
  const c2 = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: rotated.body.secret, will })
  t.equal(c2.connected, true, 'the new one connects')
  const { client: watcher } = await userClient(t, app, 'viewer')
  await watcher.subscribeAsync(will.topic, { qos: 1 })
  t.match(
    JSON.parse((await nextMessage(watcher, will.topic)).payload.toString()),
    { status: 'online' },
    'its status is retained'
  )

  const configRetained = async (): Promise<boolean> =>
    (await retainedMessages(app.gateway.services.broker.aedes, familyTopic('deviceConfig'))).has(
      topicOf('deviceConfig', { uuid })
    )
  for (let i = 0; i < 500 && !await configRetained(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(await configRetained(), true, 'online, it has a retained config')

  const closed = new Promise(resolve => c2.once('close', resolve))
  t.equal((await h.call('DELETE', `/devices/${uuid}`, { token: admin })).status, 204)
  await closed
  t.pass('deleting closes the live connection')
  t.equal(await connackOf(app, uuid, rotated.body.secret), 4, 'and refuses its next CONNECT')
  t.match(await h.call('GET', `/devices/${uuid}`, { token: admin }), {
    status: 404,
    body: { error: { code: 'GW_ERR_DEVICE_NOT_FOUND' } }
  })
  // A panel subscribing now sees no retained status of the deleted device (neither "online" nor its will).
  const { client: panel } = await userClient(t, app, 'viewer')
  const seen = collect(panel)
  await panel.subscribeAsync(`autocore/devices/${uuid}/status`, { qos: 1 })
  await panel.subscribeAsync('autocore/gateway/+/status', { qos: 1 })
  await nextMessage(panel, topic => topic.startsWith('autocore/gateway/'))
  t.same(seen.filter(m => m.topic === will.topic), [], 'its retained status is cleared')
  for (let i = 0; i < 500 && await configRetained(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(await configRetained(), false, 'and its retained config')
  const logged = await app.gateway.services.repos.events.recent({ eventType: 'device_deleted' })
  t.match(logged, [{ target: uuid, source: 'api', username: /^admin-/ }], 'the deletion is an event naming the admin')
})

t.test('disabling over the API closes the connection and refuses the next CONNECT with 5', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const { uuid, secret } = await provisionDevice(app)
  const c = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret })
  const closed = new Promise(resolve => c.once('close', resolve))
  t.equal(
    (await h.call('PATCH', `/devices/${uuid}`, { token: await h.token('admin'), body: { enabled: false } })).status,
    200
  )
  await closed
  t.equal(await connackOf(app, uuid, secret), 5)
})

t.test('a UUID deleted and provisioned again takes commands (nothing cached the old row)', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const admin = await h.token('admin')
  const commands = app.gateway.services.commands
  const { uuid } = await provisionDevice(app)
  await commands.send({ deviceUuid: uuid, command: 'reboot', params: {}, source: 'api' })
  t.equal((await h.call('DELETE', `/devices/${uuid}`, { token: admin })).status, 204)
  t.equal(
    (await h.call('POST', '/devices', { token: admin, body: { name: 'again', type: 'relay_board', uuid } })).status,
    201
  )
  const sent = await commands.send({ deviceUuid: uuid, command: 'reboot', params: { n: 2 }, source: 'api' })
  const list = await h.call('GET', '/commands', { token: admin, query: { device: uuid } })
  t.match(
    list.body,
    { total: 1, items: [{ commandId: sent.commandId, payload: { n: 2 } }] },
    'the old command went with the old row'
  )
})

t.test('the CLI and the API provision through the same rule', async t => {
  const app = await startApp(t)
  const h = harness(app)
  const admin = await h.token('admin')
  const lines: string[] = []
  const errors: string[] = []
  const cli = async (args: string[]): Promise<number> =>
    await runCli(
      ['node', 'autocore-gateway', ...args],
      {
        env: { AUTOCORE_DATA_DIR: app.config.dataDir },
        out: l => lines.push(l),
        err: l => errors.push(l),
        readStdin: async () => ''
      },
      { once: () => {} }
    )
  t.equal(await cli(['device', 'add', '--name', 'cli', '--type', 'sensor', '--uuid', 'esp32-cli']), 0)
  t.match(
    await h.call('POST', '/devices', { token: admin, body: { name: 'api', type: 'sensor', uuid: 'esp32-cli' } }),
    { status: 409, body: { error: { code: 'GW_ERR_DEVICE_EXISTS', message: 'device esp32-cli already exists' } } }
  )
  t.equal(
    (await h.call('POST', '/devices', { token: admin, body: { name: 'api', type: 'sensor', uuid: 'esp32-api' } }))
      .status,
    201
  )
  t.equal(await cli(['device', 'add', '--name', 'cli', '--type', 'sensor', '--uuid', 'esp32-api']), 1)
  t.same(errors, ['device esp32-api already exists (GW_ERR_DEVICE_EXISTS)'], 'the same refusal, same words')
  t.match(
    await h.call('POST', '/devices', { token: admin, body: { name: 'api', type: 'sensor', uuid: 'Not An Id' } }),
    { status: 400, body: { error: { details: [{ in: 'body', field: '/uuid' }] } } }
  )
})

t.test('a device provisioned while a client polls is in exactly one answer (stamped at its write, after ' +
  'hashing)', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const h = harness(app)
  const admin = await h.token('admin')
  await h.token('viewer')
  const since = clock.now()
  const uuid = 'esp32-slow'
  // Between provisioning's existence check and its insert (the secret is hashed in between), time passes and a
  // client polls.
  const devices = app.gateway.services.repos.devices
  const byUuid = devices.byUuid.bind(devices)
  let first: Res | undefined
  devices.byUuid = async (u: string) => {
    const found = await byUuid(u)
    if (u === uuid && first === undefined) {
      clock.advance(5)
      first = await changes(h, since)
    }
    return found
  }
  t.teardown(() => { devices.byUuid = byUuid })
  t.equal(
    (await h.call('POST', '/devices', { token: admin, body: { name: 'slow hash', type: 'sensor', uuid } })).status,
    201
  )
  clock.advance(1)
  if (first === undefined) throw new Error('no poll ran')
  const second = await changes(h, first.body.cursor)
  t.same([uuids(first), uuids(second)], [[], [uuid]], 'not yet in the poll that ran meanwhile, then in the next one')
})

import t, { type Test } from 'tap'
import { retainedMessages } from '../../src/broker/retained.js'
import type { DeviceConfigPayload, ThemePayload, ThemeStyle } from '../../src/protocol/index.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { deviceClient, provisionDevice } from '../helpers/devices.js'
import { collect, connect, nextMessage, waitFor, type Client, type Received } from '../helpers/mqtt.js'
import { harness, type Harness, type Res } from '../api/cases/harness.js'

// Acceptance 2 of issue #6 over real sockets: simulated ESP32s are MQTT.js clients authenticated as provisioned
// devices; config and theme changes go through the HTTP API as an admin.

const THEME = 'autocore/config/theme'
const UPDATE = 'autocore/config/update'
const configTopic = (uuid: string): string => `autocore/devices/${uuid}/config`
const json = <T>(m: Received): T => JSON.parse(m.payload.toString()) as T
/** The heartbeat contract every device config carries (README "Gateway heartbeat"), with the default settings. */
const DEADMAN = {
  heartbeat_topic: 'autocore/gateway/autocore-gateway/heartbeat',
  heartbeat_ms: 1000,
  misses: 3,
  fail_safe_off: []
}

interface Api { h: Harness, admin: string, viewer: string }

async function api (app: RunningApp): Promise<Api> {
  const h = harness(app)
  return { h, admin: await h.token('admin'), viewer: await h.token('viewer') }
}

async function call (a: Api, method: string, path: string, body?: unknown): Promise<Res> {
  return await a.h.call(method, path, { token: method === 'GET' ? a.viewer : a.admin, body })
}

/** Polls an HTTP read until `ok` holds (the status handler stores the applied version after the PUBACK). */
async function until (read: () => Promise<Res>, ok: (res: Res) => boolean): Promise<Res> {
  for (let i = 0; i < 500; i++) {
    const res = await read()
    if (ok(res)) return res
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('condition not met in time')
}

/** A simulated ESP32 of `type`, subscribed to the theme and the update announcements. */
async function themedDevice (
  t: Test,
  app: RunningApp,
  type: string
): Promise<{ client: Client, uuid: string, type: string }> {
  const d = await deviceClient(t, app, { type })
  await d.client.subscribeAsync([THEME, UPDATE], { qos: 1 })
  return { ...d, type }
}

/** What a device of `type` renders with: its merged entry, or the base style. */
function styleFor (theme: ThemePayload, type: string): ThemeStyle {
  return theme.device_types[type] ?? { colors: theme.colors, fonts: theme.fonts }
}

t.test('a device that reboots (new connection) and requests its config receives it', async t => {
  const app = await startApp(t)
  const a = await api(app)
  const { uuid, secret } = await provisionDevice(app, { type: 'display' })
  const topic = configTopic(uuid)
  t.equal(
    (await retainedMessages(app.gateway.services.broker.aedes, topic)).size,
    0,
    'provisioned after start: nothing retained yet'
  )

  // First boot: the gateway retains the config of a device it has not seen before as the device comes online.
  const first = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret })
  await first.subscribeAsync(topic, { qos: 1 })
  t.same(
    json(await nextMessage(first, topic)),
    { version: 0, config: {}, deadman: DEADMAN },
    'a device without a config is told so (version 0)'
  )
  t.same(
    (await retainedMessages(app.gateway.services.broker.aedes, topic)).get(topic)?.toString(),
    JSON.stringify({ version: 0, config: {}, deadman: DEADMAN })
  )
  await first.endAsync()

  const put = await call(a, 'PUT', `/devices/${uuid}/config`, {
    config: { screens: ['main', 'lights'], brightness: 70 }
  })
  t.same(put.body, { uuid, version: 1 })

  // Reboot: a fresh clean session, as firmware does after a power cycle.
  const second = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret })
  await second.subscribeAsync(topic, { qos: 1 })
  const retained = await nextMessage(second, topic)
  t.equal(retained.packet.retain, true, 'the retained config arrives on subscribe')
  t.same(json(retained), { version: 1, config: { screens: ['main', 'lights'], brightness: 70 }, deadman: DEADMAN })
  await second.publishAsync(`${topic}/request`, '{}', { qos: 1 })
  const requested = await nextMessage(second, topic)
  t.equal(requested.packet.retain, false, 'the answer to the request is a live publish')
  t.equal(requested.packet.qos, 1)
  t.same(json<DeviceConfigPayload>(requested), {
    version: 1,
    config: { screens: ['main', 'lights'], brightness: 70 },
    deadman: DEADMAN
  })
})

t.test('a config change reaches an online device within one publish; the applied version shows in the API', async t => {
  const app = await startApp(t)
  const a = await api(app)
  const { client, uuid } = await deviceClient(t, app, { type: 'relay_board' })
  const topic = configTopic(uuid)
  // Retained as the device came online (it was provisioned after start); then it subscribes, as firmware does.
  await until(
    async () => ({ status: 200, body: (await retainedMessages(app.gateway.services.broker.aedes, topic)).size }),
    res => res.body === 1
  )
  await client.subscribeAsync([topic, UPDATE], { qos: 1 })
  t.same(json(await nextMessage(client, topic)), { version: 0, config: {}, deadman: DEADMAN })
  const seen = collect(client)

  const put = await call(a, 'PUT', `/devices/${uuid}/config`, { config: { channels: 8, labels: { 1: 'lights' } } })
  t.equal(put.status, 200)
  t.same(put.body, { uuid, version: 1 })
  await waitFor(() => seen.some(m => m.topic === UPDATE))
  const configs = seen.filter(m => m.topic === topic)
  t.equal(configs.length, 1, 'one publish carries the change')
  t.same(JSON.parse(configs[0].payload), {
    version: 1,
    config: { channels: 8, labels: { 1: 'lights' } },
    deadman: DEADMAN
  })
  t.same([configs[0].qos, configs[0].retain], [1, false], 'QoS 1 (retained on the broker, live to the subscriber)')
  t.same(
    seen.filter(m => m.topic === UPDATE).map(m => JSON.parse(m.payload)),
    [{ scope: 'device', uuid, version: 1 }],
    'announced after the config'
  )
  t.same(seen.map(m => m.topic), [topic, UPDATE], 'config first, then the announcement')
  t.same(
    (await retainedMessages(app.gateway.services.broker.aedes, topic)).get(topic)?.toString(),
    configs[0].payload,
    'and retained'
  )

  t.match((await call(a, 'GET', `/devices/${uuid}/config`)).body, {
    uuid,
    version: 1,
    appliedVersion: null,
    lagging: true
  })
  t.match((await call(a, 'GET', '/config/lagging')).body, {
    items: [{ uuid, version: 1, appliedVersion: null, status: 'online' }],
    total: 1
  })

  // The device applies it and says so in its status (retained, as firmware does).
  await client.publishAsync(
    `autocore/devices/${uuid}/status`,
    JSON.stringify({ status: 'online', config_version: 1 }),
    { qos: 1, retain: true }
  )
  const applied = await until(() => call(a, 'GET', `/devices/${uuid}/config`), res => res.body.appliedVersion === 1)
  t.match(applied.body, { version: 1, appliedVersion: 1, lagging: false, config: { channels: 8 } })
  t.same((await call(a, 'GET', '/config/lagging')).body, { items: [], total: 0, limit: 100, offset: 0 })

  // A second change: the device lags until it reports the new version.
  await nextMessage(client, topic)
  await nextMessage(client, UPDATE)
  t.same((await call(a, 'PUT', `/devices/${uuid}/config`, { config: { channels: 16 }, expectedVersion: 1 })).body, {
    uuid,
    version: 2
  })
  t.same(json(await nextMessage(client, topic)), { version: 2, config: { channels: 16 }, deadman: DEADMAN })
  t.match((await call(a, 'GET', '/config/lagging')).body, {
    items: [{ uuid, version: 2, appliedVersion: 1 }],
    total: 1
  })
  const stale = await call(a, 'PUT', `/devices/${uuid}/config`, { config: { channels: 4 }, expectedVersion: 1 })
  t.match(
    stale,
    { status: 409, body: { error: { code: 'GW_ERR_DEVICE_CONFIG_CONFLICT' } } },
    'a stale expectedVersion changes nothing'
  )
  await client.publishAsync(
    `autocore/devices/${uuid}/status`,
    JSON.stringify({ status: 'online', config_version: 2 }),
    { qos: 1, retain: true }
  )
  await until(() => call(a, 'GET', '/config/lagging'), res => res.body.total === 0)
  t.match((await call(a, 'GET', `/devices/${uuid}/config`)).body, {
    version: 2,
    appliedVersion: 2,
    lagging: false,
    config: { channels: 16 }
  })
})

t.test('a theme change reaches every online device with its type\'s adjustments; a device booting later gets it at ' +
  'once', async t => {
  const app = await startApp(t)
  const a = await api(app)
  const devices = [
    await themedDevice(t, app, 'display'),
    await themedDevice(t, app, 'display_small'),
    await themedDevice(t, app, 'relay_board')
  ]
  const initial = await Promise.all(devices.map(async d => await nextMessage(d.client, THEME)))
  for (const m of initial) {
    t.match([m.packet.retain, json(m)], [true, { name: 'default' }], 'the default theme is retained at first start')
  }
  const active = (await call(a, 'GET', '/themes/active')).body
  t.match(active, { name: 'default', isActive: true, version: json<ThemePayload>(initial[0]).version })

  // PATCH the active theme: every online device gets it in one publish, each type with its adjustments.
  const patch = await call(a, 'PATCH', `/themes/${String(active.id)}`, {
    colors: { ...active.colors, primary: '#FF0000' },
    deviceOverrides: {
      display: { fonts: { size_base: 20 } },
      display_small: { fonts: { size_base: 24 }, colors: { background: '#000000', text_primary: '#FFFFFF' } }
    }
  })
  t.equal(patch.status, 200)
  const patched = await Promise.all(devices.map(async d => json<ThemePayload>(await nextMessage(d.client, THEME))))
  for (const [i, theme] of patched.entries()) {
    t.match(
      theme,
      { name: 'default', version: patch.body.version, colors: { primary: '#FF0000' } },
      `${devices[i].type} got the change`
    )
    t.ok(theme.version > json<ThemePayload>(initial[i]).version, 'the version grew')
  }
  t.match(styleFor(patched[0], 'display'), {
    fonts: { size_base: 20, family: String },
    colors: { primary: '#FF0000', background: active.colors.background }
  })
  t.match(styleFor(patched[1], 'display_small'), {
    fonts: { size_base: 24 },
    colors: { primary: '#FF0000', background: '#000000', text_primary: '#FFFFFF' }
  })
  t.match(
    styleFor(patched[2], 'relay_board'),
    { fonts: { size_base: 14 }, colors: { primary: '#FF0000', background: active.colors.background } },
    'no override: the base style'
  )
  for (const d of devices) {
    t.same(json(await nextMessage(d.client, UPDATE)), { scope: 'theme', name: 'default', version: patch.body.version })
  }

  // Create and activate another theme: every device switches.
  const night = await call(a, 'POST', '/themes', {
    name: 'night',
    colors: { primary: '#330000', background: '#000000' },
    fonts: { family: 'Inter', size_base: 16 },
    deviceOverrides: { relay_board: { colors: { primary: '#550000' } } }
  })
  t.equal(night.status, 201)
  const activated = await call(a, 'POST', `/themes/${String(night.body.id)}/activate`)
  t.match(activated.body, { name: 'night', isActive: true })
  const switched = await Promise.all(devices.map(async d => json<ThemePayload>(await nextMessage(d.client, THEME))))
  for (const theme of switched) t.match(theme, { name: 'night', version: activated.body.version })
  t.ok(activated.body.version > patch.body.version)
  t.match(styleFor(switched[2], 'relay_board'), {
    colors: { primary: '#550000', background: '#000000' },
    fonts: { size_base: 16 }
  })
  t.match(styleFor(switched[0], 'display'), { colors: { primary: '#330000' }, fonts: { size_base: 16 } })
  for (const d of devices) {
    t.same(json(await nextMessage(d.client, UPDATE)), {
      scope: 'theme',
      name: 'night',
      version: activated.body.version
    })
  }

  // A change to a theme that is not active publishes nothing: the next theme message is the active one's.
  t.equal((await call(a, 'PATCH', `/themes/${String(active.id)}`, { colors: { primary: '#00FF00' } })).status, 200)
  const nightPatch = await call(a, 'PATCH', `/themes/${String(night.body.id)}`, {
    fonts: { family: 'Inter', size_base: 17 }
  })
  for (const d of devices) {
    t.match(json(await nextMessage(d.client, THEME)), {
      name: 'night',
      version: nightPatch.body.version,
      fonts: { size_base: 17 }
    })
  }
  t.match(await call(a, 'DELETE', `/themes/${String(night.body.id)}`), {
    status: 409,
    body: { error: { code: 'GW_ERR_THEME_ACTIVE' } }
  })

  // A device booting later gets the retained theme at once on subscribe.
  const late = await deviceClient(t, app, { type: 'display' })
  await late.client.subscribeAsync(THEME, { qos: 1 })
  const got = await nextMessage(late.client, THEME)
  t.equal(got.packet.retain, true)
  t.match(json(got), { name: 'night', version: nightPatch.body.version, fonts: { size_base: 17 } })
})

t.test('at start every device\'s retained config is made present and current, once; the default theme ' +
  'exists', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir })
  const ctx = first.gateway.services
  const a = await provisionDevice(first, { type: 'display' })
  const b = await provisionDevice(first, { type: 'sensor' })
  await ctx.deviceConfig.update(a.uuid, { page: 2 })
  // A lost retained message, and one of a device that no longer exists.
  await ctx.broker.publish(configTopic(a.uuid), Buffer.alloc(0), { qos: 1, retain: true })
  await ctx.broker.publish(configTopic('ghost-001'), { version: 3, config: {} }, { qos: 1, retain: true })
  const theme = await ctx.themes.active()
  await first.stop()

  const second = await startApp(t, { dataDir })
  const retained = await retainedMessages(second.gateway.services.broker.aedes, 'autocore/devices/+/config')
  t.same(Object.fromEntries([...retained].map(([k, v]) => [k, JSON.parse(v.toString())])), {
    [configTopic(a.uuid)]: { version: 1, config: { page: 2 }, deadman: DEADMAN },
    [configTopic(b.uuid)]: { version: 0, config: {}, deadman: DEADMAN }
  }, 'every device has its current config retained; the unknown one is cleared')
  t.match(second.logs.find(l => l.msg === 'device configs retained'), { devices: 2, published: 2, cleared: 1 })
  const themeMsg = (await retainedMessages(second.gateway.services.broker.aedes, THEME)).get(THEME)
  t.match(JSON.parse(themeMsg?.toString() ?? '{}'), {
    name: 'default',
    version: theme.version,
    device_types: { display_small: { fonts: { size_base: 18 } } }
  })
  t.same(
    (await second.gateway.services.themes.list({ limit: 10, offset: 0 })).items.map(x => [x.name, x.isActive]),
    [['default', true]],
    'one default theme, not a second one'
  )
  await second.stop()

  const third = await startApp(t, { dataDir })
  t.match(
    third.logs.find(l => l.msg === 'device configs retained'),
    { devices: 2, published: 0, cleared: 0 },
    'nothing re-sent when all is current'
  )
})

import t from 'tap'
import { themePayload } from '../../src/services/theme-payload.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startApp } from '../helpers/app.js'
import { provisionDevice } from '../helpers/devices.js'
import { harness } from './cases/harness.js'

t.test('theme bodies are validated field by field: CSS hex colors, identifier keys, known override parts', async t => {
  const h = harness(await startApp(t))
  const admin = await h.token('admin')
  const post = async (body: unknown): Promise<any> => (await h.call('POST', '/themes', { token: admin, body })).body
  t.match(await post({ name: 'x', colors: { primary: 'red' } }), {
    error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'body', field: '/colors/primary' }] }
  })
  t.match(await post({ name: 'x', colors: { primary: '#12345' } }), {
    error: { details: [{ field: '/colors/primary' }] }
  })
  t.match(
    await post({ name: 'x', colors: {} }),
    { error: { details: [{ field: '/colors' }] } },
    'a theme has at least one color'
  )
  t.match(await post({ name: 'x', colors: { 'Primary Color': '#123' } }), { error: { code: 'GW_ERR_HTTP_VALIDATION' } })
  t.match(await post({ name: 'x', colors: { primary: '#123' }, fonts: { size_base: 2 } }), {
    error: { details: [{ field: '/fonts/size_base' }] }
  })
  t.match(await post({ name: 'x', colors: { primary: '#123' }, deviceOverrides: { display: { spacing: 4 } } }), {
    error: { details: [{ field: '/deviceOverrides/display/spacing' }] }
  })
  t.match(await post({ name: ' x', colors: { primary: '#123' } }), { error: { details: [{ field: '/name' }] } })
  t.match(
    await post({ name: 'ok', colors: { primary: '#123', accent: '#11223344' }, fonts: null, deviceOverrides: null }),
    { name: 'ok', fonts: null, deviceOverrides: null }
  )
  const patch = await h.call('PATCH', '/themes/1', { token: admin, body: {} })
  t.match(patch, { status: 400, body: { error: { code: 'GW_ERR_HTTP_VALIDATION' } } }, 'an empty patch')
})

t.test('theme versions only grow, even when the clock stands still; activating the active theme changes ' +
  'nothing', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const themes = app.gateway.services.themes
  const base = await themes.active()
  t.match(base, { name: 'default', isActive: true }, 'the default theme, activated at start')
  const other = await themes.create({ name: 'other', colors: { primary: '#000' }, fonts: null, deviceOverrides: null })
  const activated = await themes.activate(other.id)
  const patched = await themes.update(base.id, { colors: { primary: '#fff' } })
  const back = await themes.activate(base.id)
  const versions = [base.version, other.version, activated.version, patched.version, back.version]
  t.same(versions, [...versions].sort((x, y) => x - y), `increasing: ${versions.join(', ')}`)
  t.equal(new Set(versions).size, versions.length, 'and never repeated')
  t.same(await themes.activate(base.id), back, 'a second activation is a no-op')
  clock.advance(60_000)
  t.equal(
    (await themes.update(base.id, { name: 'renamed' })).version,
    clock.now(),
    'the clock again once it has moved past'
  )
})

t.test('the theme message merges each device type\'s overrides over the base style', async t => {
  const payload = themePayload({
    name: 'n',
    updatedAt: Date.UTC(2026, 0, 1),
    colors: { primary: '#111', background: '#222' },
    fonts: { family: 'Inter', size_base: 14 },
    deviceOverrides: { display: { fonts: { size_base: 20 } }, panel: { colors: { background: '#000' } } }
  })
  t.same(payload, {
    name: 'n',
    version: Date.UTC(2026, 0, 1),
    updated_at: '2026-01-01T00:00:00.000Z',
    colors: { primary: '#111', background: '#222' },
    fonts: { family: 'Inter', size_base: 14 },
    device_types: {
      display: { colors: { primary: '#111', background: '#222' }, fonts: { family: 'Inter', size_base: 20 } },
      panel: { colors: { primary: '#111', background: '#000' }, fonts: { family: 'Inter', size_base: 14 } }
    }
  })
  t.same(
    themePayload({ name: 'm', updatedAt: 0, colors: { primary: '#111' }, fonts: null, deviceOverrides: null })
      .device_types,
    {}
  )
})

t.test('a device config that would not fit an MQTT message is refused before anything changes', async t => {
  const app = await startApp(t, { config: { mqtt: { maxPayloadBytes: 1024 } } })
  const h = harness(app)
  const { uuid } = await provisionDevice(app)
  const res = await h.call('PUT', `/devices/${uuid}/config`, {
    token: await h.token('admin'),
    body: { config: { blob: 'x'.repeat(1024) } }
  })
  t.match(res, { status: 413, body: { error: { code: 'GW_ERR_DEVICE_CONFIG_TOO_LARGE' } } })
  t.match(await app.gateway.services.deviceConfig.view(uuid), { version: 0, config: {} })
})

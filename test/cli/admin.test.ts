import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { startApp } from '../helpers/app.js'
import { login } from '../helpers/devices.js'
import { connect } from '../helpers/mqtt.js'

function io (
  dataDir: string,
  stdin = ''
): {
    env: Record<string, string>
    out: (l: string) => void
    err: (l: string) => void
    readStdin: () => Promise<string>
    lines: string[]
    errors: string[]
  } {
  const lines: string[] = []
  const errors: string[] = []
  return {
    env: { AUTOCORE_DATA_DIR: dataDir },
    out: l => lines.push(l),
    err: l => errors.push(l),
    readStdin: async () => stdin,
    lines,
    errors
  }
}
const noSignals = { once: () => {} }
const cli = async (
  dataDir: string,
  args: string[],
  stdin = ''
): Promise<{ code: number, lines: string[], errors: string[] }> => {
  const x = io(dataDir, stdin)
  const code = await runCli(['node', 'autocore-gateway', ...args], x, noSignals)
  return { code, lines: x.lines, errors: x.errors }
}

t.test('device add/list/disable/enable/rotate-secret against a running gateway', async t => {
  const app = await startApp(t)
  const dir = app.config.dataDir
  const added = await cli(dir, [
    'device',
    'add',
    '--name',
    'Front relays',
    '--type',
    'relay_board',
    '--capabilities',
    'emergency_button',
    '--json'
  ])
  t.equal(added.code, 0, added.errors.join('\n'))
  const { uuid, secret } = JSON.parse(added.lines[0])
  t.match(uuid, /^[0-9a-f-]{36}$/)
  const c = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret })
  t.equal(c.connected, true, 'the printed secret works')
  c.end(true)

  const text = await cli(dir, ['device', 'add', '--name', 'Dash', '--type', 'display', '--uuid', 'esp32-001'])
  t.match(text.lines.join('\n'), /uuid: {3}esp32-001\nsecret: \S+/)
  t.match(await cli(dir, ['device', 'add', '--name', 'Dup', '--type', 'display', '--uuid', 'esp32-001']), {
    code: 1,
    errors: ['device esp32-001 already exists (GW_ERR_DEVICE_EXISTS)']
  })
  t.match(await cli(dir, ['device', 'add', '--name', 'Bad', '--type', 'display', '--uuid', 'Bad Id']), {
    code: 1,
    errors: [/GW_ERR_DEVICE_INVALID_ID/]
  })

  const list = JSON.parse((await cli(dir, ['device', 'list', '--json'])).lines[0])
  t.match(list, [
    { uuid, name: 'Front relays', type: 'relay_board', capabilities: ['emergency_button'], enabled: true },
    { uuid: 'esp32-001', type: 'display' }
  ])
  t.match((await cli(dir, ['device', 'list'])).lines[0], /^uuid +name +type +status +enabled/)

  t.equal((await cli(dir, ['device', 'disable', uuid])).code, 0)
  t.equal(
    await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret }).then(
      () => 0,
      (e: { code: number }) => e.code
    ),
    5,
    'disabled: CONNACK 5'
  )
  t.equal((await cli(dir, ['device', 'enable', uuid])).code, 0)
  const rotated = JSON.parse((await cli(dir, ['device', 'rotate-secret', uuid, '--json'])).lines[0])
  t.not(rotated.secret, secret)
  t.equal(
    await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret }).then(
      () => 0,
      (e: { code: number }) => e.code
    ),
    4,
    'the old secret stops working'
  )
  const fresh = await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: rotated.secret })
  t.equal(fresh.connected, true)
  t.match(await cli(dir, ['device', 'disable', 'esp32-404']), {
    code: 1,
    errors: ['no device esp32-404 (GW_ERR_DEVICE_NOT_FOUND)']
  })
})

t.test('user add (password from stdin) / list / disable', async t => {
  const app = await startApp(t)
  const dir = app.config.dataDir
  t.match(await cli(dir, ['user', 'add', 'ana', '--role', 'operator', '--json'], 'correct horse\n'), {
    code: 0,
    lines: ['{"username":"ana","role":"operator"}']
  })
  t.ok(await login(app, 'ana', 'correct horse'))
  t.match(await cli(dir, ['user', 'add', 'ana', '--role', 'viewer'], 'whatever-long'), {
    code: 1,
    errors: [/GW_ERR_USER_EXISTS/]
  })
  t.match(await cli(dir, ['user', 'add', 'bo', '--role', 'king'], 'whatever-long'), {
    code: 2,
    errors: [/--role must be one of viewer, operator, admin/]
  })
  t.match(await cli(dir, ['user', 'add', 'bo', '--role', 'viewer'], 'short'), {
    code: 1,
    errors: [/at least 8 characters/]
  })
  t.match(JSON.parse((await cli(dir, ['user', 'list', '--json'])).lines[0]), [
    { username: 'admin', role: 'admin' },
    { username: 'ana', role: 'operator', enabled: true, lastLoginAt: /^\d{4}-/ }
  ])
  t.equal((await cli(dir, ['user', 'disable', 'ana'])).code, 0)
  await t.rejects(login(app, 'ana', 'correct horse'), /HTTP 401/)
  t.match(await cli(dir, ['user', 'disable', 'nobody']), {
    code: 1,
    errors: ['no user nobody (GW_ERR_USER_NOT_FOUND)']
  })
})

t.test('autoRegister: an unknown device announces itself as pending; approve gives it full rights', async t => {
  const app = await startApp(t, { config: { devices: { autoRegister: true } } })
  const dir = app.config.dataDir
  const opts = { clientId: 'esp32-new', username: 'esp32-new', password: 'my-own-secret' }
  const c = await connect(t, app.mqttUrl, opts)
  await c.publishAsync(
    'autocore/devices/esp32-new/announce',
    JSON.stringify({ type: 'sensor', name: 'Cabin temp', capabilities: ['emergency_button'] }),
    { qos: 1 }
  )
  t.match(JSON.parse((await cli(dir, ['device', 'list', '--json'])).lines[0]), [
    { uuid: 'esp32-new', status: 'pending', type: 'sensor', name: 'Cabin temp' }
  ])
  const closed = new Promise(resolve => c.once('close', resolve))
  c.publish('autocore/devices/esp32-new/telemetry', '{"t":1}', { qos: 1 })
  await closed
  t.pass('a pending device may only announce')
  t.equal((await cli(dir, ['device', 'approve', 'esp32-new'])).code, 0)
  const approved = await connect(t, app.mqttUrl, opts)
  await approved.publishAsync('autocore/devices/esp32-new/telemetry', '{"t":1}', { qos: 1 })
  t.equal(approved.connected, true)
  t.equal(
    await connect(t, app.mqttUrl, { ...opts, password: 'someone-else' }).then(
      () => 0,
      (e: { code: number }) => e.code
    ),
    4,
    'its first secret is now its secret'
  )
})

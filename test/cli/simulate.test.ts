import { statSync } from 'node:fs'
import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { ENGINE_SIGNALS, quantize, sample } from '../../src/simulator/signals.js'
import { rotateDeviceSecret } from '../../src/services/provisioning.js'
import { provisionVehicle, runVehicle, secretsFile, vehicleDevices } from '../../src/simulator/vehicle.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { userClient } from '../helpers/devices.js'
import { waitFor } from '../helpers/mqtt.js'
import { runGateway } from '../helpers/process.js'

const WAIT = 60_000

t.test('signals: quantized, slowly varying, the same for the same time and phase', async t => {
  for (const s of ENGINE_SIGNALS) {
    const values = Array.from({ length: 900 }, (_, second) => sample([s], second, 0.3)[s.key].value)
    const range = Math.max(...values) - Math.min(...values)
    const bad: string[] = []
    let changes = 0
    for (const [i, value] of values.entries()) {
      if (Math.abs(Math.round(value / s.step) * s.step - value) > 1e-9) {
        bad.push(`${value} is not a multiple of ${s.step}`)
      }
      // From one second to the next a signal moves by a twentieth of its range at most: a drive, not noise.
      if (i > 0 && Math.abs(value - values[i - 1]) > Math.max(s.step, range / 20) + 1e-9) {
        bad.push(`at ${i}s: ${values[i - 1]} → ${value}`)
      }
      if (i > 0 && value !== values[i - 1]) changes++
    }
    t.same(bad, [], `${s.key}: quantized to ${s.step}, slowly varying`)
    t.ok(changes > 10, `${s.key} changes over 15 minutes (${changes} times, range ${range.toFixed(2)} ${s.unit})`)
  }
  t.same(sample(ENGINE_SIGNALS, 42, 0.1), sample(ENGINE_SIGNALS, 42, 0.1))
  t.notSame(sample(ENGINE_SIGNALS, 42, 0.1), sample(ENGINE_SIGNALS, 42, 0.6), 'another board has another phase')
  t.equal(quantize(0.1 + 0.2, 0.1), 0.3)
  t.equal(quantize(13.87, 0.05), 13.85)
})

t.test('--devices n: one of each kind first, then sensor and relay boards in turn', async t => {
  t.same(
    vehicleDevices(6).map(d => d.uuid),
    ['sim-sensors-1', 'sim-relays-1', 'sim-display-1', 'sim-estop-1', 'sim-sensors-2', 'sim-relays-2']
  )
  t.match(vehicleDevices(4)[3], { type: 'emergency_button', capabilities: ['emergency_button'] })
  t.match(vehicleDevices(4)[2], { type: 'display', capabilities: ['display'] })
})

async function vehicle (t: Test, app: RunningApp, n = 4): Promise<Awaited<ReturnType<typeof runVehicle>>> {
  const devices = vehicleDevices(n)
  const { secrets } = await provisionVehicle(app.gateway.services.repos, app.config.dataDir, devices, Date.now)
  const v = await runVehicle(app.mqttUrl, devices, secrets, { rate: 10 })
  t.teardown(() => v.stop())
  return v
}
type Test = typeof t

t.test('provisioned on first use, the same devices and secrets on the next run', async t => {
  const app = await startApp(t)
  const devices = vehicleDevices(4)
  const first = await provisionVehicle(app.gateway.services.repos, app.config.dataDir, devices, Date.now)
  t.same(first.created, devices.map(d => d.uuid))
  t.equal(statSync(secretsFile(app.config.dataDir)).mode & 0o777, 0o600, 'the secrets file is 0600')
  t.equal((await app.gateway.services.repos.relays.list({ limit: 100, offset: 0 }, 'sim-relays-1')).total, 8)
  const second = await provisionVehicle(app.gateway.services.repos, app.config.dataDir, devices, Date.now)
  t.same(second.created, [])
  t.same(second.secrets, first.secrets)
  t.equal(
    (await app.gateway.services.repos.relays.list({ limit: 100, offset: 0 }, 'sim-relays-1')).total,
    8,
    'no channel twice'
  )
})

t.test('the vehicle against the real gateway: online, telemetry stored, relays obey, hold, pulse, interlock, ' +
  'emergency', async t => {
  const app = await startApp(t, { config: { relays: { defaultHoldMs: 300 } } })
  const v = await vehicle(t, app)
  const repos = app.gateway.services.repos
  for (const uuid of ['sim-sensors-1', 'sim-relays-1', 'sim-display-1', 'sim-estop-1']) {
    const until = Date.now() + WAIT
    while ((await repos.devices.byUuid(uuid))?.status !== 'online') {
      if (Date.now() > until) throw new Error(`${uuid} not online`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    t.pass(`${uuid} online`)
  }
  const latest = async (): Promise<Array<{ key: string, value: unknown }>> => {
    const res = await fetch(`${app.httpUrl}/api/v1/telemetry/sim-sensors-1/latest`, {
      headers: { authorization: `Bearer ${operator.token}` }
    })
    return ((await res.json()) as { readings: Array<{ key: string, value: unknown }> }).readings
  }
  const operator = await userClient(t, app, 'operator')
  const until = Date.now() + WAIT
  while ((await latest()).length < ENGINE_SIGNALS.length) {
    if (Date.now() > until) throw new Error('no telemetry stored')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  t.same(
    (await latest()).map(r => r.key).sort(),
    ENGINE_SIGNALS.map(s => s.key).sort(),
    'every engine signal is stored'
  )

  const board = v.relayBoards[0]
  const set = async (body: Record<string, unknown>): Promise<void> => {
    await operator.client.publishAsync('autocore/relays/sim-relays-1/set', JSON.stringify(body), { qos: 1 })
  }
  const current = async (ch: number): Promise<boolean | null | undefined> =>
    (await repos.relays.channel('sim-relays-1', ch))?.currentState

  await set({ channel: 1, action: 'toggle' })
  await waitFor(() => board.state.get(1) === true, WAIT)
  const deadline = Date.now() + WAIT
  while ((await current(1)) !== true) {
    if (Date.now() > deadline) throw new Error('state not reported')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.pass('toggle: the board switched and the gateway stored its report')

  await set({ channel: 5, action: 'pulse' })
  await waitFor(() => board.history.some(h => h[5]), WAIT)
  await waitFor(() => board.state.get(5) === false, WAIT)
  t.pass('pulse: on, then off by itself after pulse_ms')

  await set({ channel: 3, action: 'on' })
  await waitFor(() => board.state.get(3) === true, WAIT)
  await waitFor(() => board.state.get(3) === false, WAIT)
  t.pass('hold: released by the board when the hold is not renewed')

  await set({ channel: 6, action: 'on' })
  await waitFor(() => board.state.get(6) === true, WAIT)
  await set({ channel: 7, action: 'on' })
  await waitFor(() => board.state.get(7) === true, WAIT)
  t.equal(board.state.get(6), false, 'mutex: winch in went off before winch out went on')

  await v.pressEmergency()
  await waitFor(() => app.gateway.services.emergency.record.active, WAIT)
  await waitFor(() => [...board.state.values()].every(s => !s), WAIT)
  t.pass('the button stops the vehicle: every relay off')
})

t.test('the board refuses a channel whose mutex partner is on (its own interlock, behind the gateway\'s)', async t => {
  const app = await startApp(t)
  const v = await vehicle(t, app)
  const board = v.relayBoards[0]
  board.state.set(6, true)
  const responses: Array<Record<string, unknown>> = []
  const seen = await userClient(t, app, 'admin')
  await seen.client.subscribeAsync('autocore/devices/sim-relays-1/response', { qos: 1 })
  seen.client.on('message', (_topic, payload) =>
    responses.push(JSON.parse(payload.toString()) as Record<string, unknown>)
  )
  await seen.client
    .publishAsync(
      'autocore/relays/sim-relays-1/command',
      JSON.stringify({ command_id: 'x1', channel: 7, action: 'on' }),
      { qos: 1 }
    )
    .catch(() => {})
  // An admin may publish a command topic (the gateway's own): the board sees it as from the gateway.
  await waitFor(() => responses.length > 0, WAIT)
  t.match(responses[0], { command_id: 'x1', status: 'error', message: /interlock/ })
  t.equal(board.state.get(7), false)
})

t.test('`simulate` as a real process: connects, publishes, stops cleanly on SIGINT', async t => {
  const app = await startApp(t)
  const p = runGateway(t, ['simulate', '--devices', '5', '--rate', '5', '--mqtt-url', app.mqttUrl], {
    AUTOCORE_DATA_DIR: app.config.dataDir
  })
  await waitFor(() => p.stdout.some(l => l.startsWith('simulating 5 devices')), WAIT).catch(() => {
    throw new Error(`not started: ${p.stdout.join('\n')} ${p.stderr.join('\n')}`)
  })
  t.match(p.stdout.join('\n'), /provisioned sim-sensors-1, sim-relays-1, sim-display-1, sim-estop-1, sim-sensors-2/)
  const repos = app.gateway.services.repos
  let until = Date.now() + WAIT
  while ((await repos.devices.listByStatus('online')).length < 5) {
    if (Date.now() > until) throw new Error('not all online')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  // Stopped only once a reading is stored (the count printed at the stop is then above zero, however slow the
  // machine: a run stopped the moment the boards were online could print 0).
  const telemetry = app.gateway.services.telemetry.repo
  const sensors = await telemetry.deviceId('sim-sensors-1') as number
  until = Date.now() + WAIT
  while ((await telemetry.latest(sensors)).length === 0) {
    if (Date.now() > until) throw new Error('no reading stored')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  p.child.kill('SIGINT')
  t.same(await p.exited, { code: 0, signal: null }, 'exit 0 on Ctrl-C')
  t.match(p.stdout.join('\n'), /stopped: [1-9]\d* readings published/)
  until = Date.now() + WAIT
  while ((await repos.devices.listByStatus('online')).length > 0) {
    if (Date.now() > until) throw new Error('still online')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.pass('every board offline at once (clean DISCONNECT)')
})

t.test('bad options, and no gateway to connect to', async t => {
  const lines: string[] = []
  const errors: string[] = []
  const io = {
    env: { AUTOCORE_DATA_DIR: t.testdir() },
    out: (l: string) => lines.push(l),
    err: (l: string) => errors.push(l)
  }
  t.equal(await runCli(['node', 'x', 'simulate', '--devices', '0'], io, { once: () => {} }), 2)
  t.equal(await runCli(['node', 'x', 'simulate', '--rate', 'fast'], io, { once: () => {} }), 2)
  t.equal(await runCli(['node', 'x', 'simulate', '--mqtt-url', 'mqtt://127.0.0.1:1'], io, { once: () => {} }), 1)
  t.match(errors.join('\n'), /--devices must be.*\n.*--rate must be.*\n.*cannot connect to mqtt:\/\/127.0.0.1:1/s)
})

t.test('kept secrets refused (the database was restored): simulate rotates them and connects', async t => {
  const app = await startApp(t)
  const devices = vehicleDevices(4)
  await provisionVehicle(app.gateway.services.repos, app.config.dataDir, devices, Date.now)
  await rotateDeviceSecret(app.gateway.services.repos.devices, 'sim-sensors-1', Date.now)
  const lines: string[] = []
  const handlers: Array<() => void> = []
  const io = {
    env: { AUTOCORE_DATA_DIR: app.config.dataDir },
    out: (l: string) => lines.push(l),
    err: (l: string) => lines.push(l)
  }
  const exit = runCli(['node', 'x', 'simulate', '--mqtt-url', app.mqttUrl], io, {
    once: (_s, fn) => {
      handlers.push(fn)
    }
  })
  await waitFor(() => lines.some(l => l.startsWith('simulating 4 devices')), WAIT)
  t.ok(lines.includes('the kept device secrets were refused: rotating them'))
  handlers[0]()
  t.equal(await exit, 0)
})

t.test('the simulated relay board keeps the gateway heartbeat: the winch opens by itself when the gateway is ' +
  'gone', async t => {
  const app = await startApp(t, { config: { gateway: { heartbeatMs: 200, deadmanMisses: 3 } } })
  const v = await vehicle(t, app)
  const board = v.relayBoards[0]
  await waitFor(() => board.deadman.beats > 0 && board.deadman.contract?.fail_safe_off.length === 2, WAIT)
  t.same(board.deadman.contract?.fail_safe_off, [6, 7], 'the winch channels fail safe off')
  const { client: admin } = await userClient(t, app, 'admin')
  for (const [id, channel] of [['w1', 6], ['h1', 1]] as const) {
    await admin.publishAsync(
      'autocore/relays/sim-relays-1/command',
      JSON.stringify({ command_id: id, channel, action: 'on' }),
      { qos: 1 }
    )
  }
  await waitFor(() => board.state.get(6) === true && board.state.get(1) === true, WAIT)
  t.equal(board.deadman.trips.length, 0, 'no trip while the heartbeat flows')
  await app.stop()
  await waitFor(() => board.deadman.trips.length === 1, WAIT)
  t.same(board.deadman.trips[0].channels, [6])
  t.equal(board.state.get(6), false, 'the winch is off')
  t.equal(board.state.get(1), true, 'a hold channel keeps its state')
})

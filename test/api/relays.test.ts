import t from 'tap'
import { startApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { provisionDevice } from '../helpers/devices.js'
import { waitFor } from '../helpers/mqtt.js'
import { harness, type Harness } from './cases/harness.js'
import { storedMacro } from './cases/macros.js'
import { onlineBoard } from './cases/relays.js'

const actions = (b: { commands: Array<{ topic: string, body: Record<string, any> }> }): string[] =>
  b.commands
    .filter(c => c.topic.startsWith('autocore/relays/'))
    .map(c => `${String(c.body.action)}${String(c.body.channel)}`)

t.test('during an emergency stop every relay-on over the API is 423 and the board gets nothing; off still ' +
  'works', async t => {
  const h = harness(await startApp(t), t)
  const op = await h.token('operator')
  const { board, ids } = await onlineBoard(h, [{ channel: 1 }, { channel: 2, function: 'momentary' }])
  const stop = await h.call('POST', '/emergency/stop', { token: op, body: { reason: 'driver pressed the button' } })
  t.match(stop, { status: 200, body: { active: true, reason: 'driver pressed the button', source: /^user:operator-/ } })
  await waitFor(() => actions(board).length === 2)
  t.same(actions(board).sort(), ['off1', 'off2'], 'the stop turned every channel off')
  const macro = await storedMacro(h, [])

  for (const [path, body] of [
    [`/relays/${ids[1]}/on`, {}],
    [`/relays/${ids[1]}/toggle`, {}],
    [`/relays/${ids[1]}/pulse`, { durationMs: 100 }],
    [`/relays/${ids[2]}/on`, {}],
    ['/controls/hold', { relayId: ids[2], durationMs: 500 }],
    [`/macros/${macro}/execute`, undefined]
  ] as const) {
    const res = await h.call('POST', path, { token: op, body })
    t.match(
      res,
      { status: 423, body: { error: { code: 'GW_ERR_EMERGENCY_ACTIVE', message: /emergency stop active/ } } },
      `${path} refused`
    )
  }
  t.same(actions(board).sort(), ['off1', 'off2'], 'the board got nothing more')
  t.equal(
    (await h.app.gateway.services.repos.macros.runs(macro, { limit: 10, offset: 0 })).total,
    0,
    'no macro run started'
  )

  t.match(
    await h.call('POST', `/relays/${ids[1]}/off`, { token: op }),
    { status: 200, body: { action: 'off' } },
    'off is never refused'
  )
  t.match(
    await h.call('POST', '/emergency/reset', { token: op }),
    { status: 403, body: { error: { code: 'GW_ERR_AUTH_FORBIDDEN' } } },
    'an operator cannot reset'
  )
  t.match(await h.call('POST', '/emergency/reset', { token: await h.token('admin') }), {
    status: 200,
    body: { active: false }
  })
  const on = await h.call('POST', `/relays/${ids[1]}/on`, { token: op })
  t.match(on, { status: 200, body: { action: 'on', status: 'sent' } }, 'after the reset it works again')
  await waitFor(() => actions(board).includes('on1'))
})

t.test('mutex over the API: the other channel of the group is off (acknowledged) before this one goes on', async t => {
  const h = harness(await startApp(t), t)
  const op = await h.token('operator')
  const { board, ids } = await onlineBoard(h, [
    { channel: 1, name: 'forward', mutexGroup: 'drive' },
    { channel: 2, name: 'reverse', mutexGroup: 'drive' }
  ])
  // Channel 2 has never reported its state: not confirmed off, so it gets an off-command first.
  t.match(await h.call('POST', `/relays/${ids[1]}/on`, { token: op }), { status: 200, body: { turnedOff: [ids[2]] } })
  await waitFor(() => board.state.get(1) === true)
  const rev = await h.call('POST', `/relays/${ids[2]}/on`, { token: op })
  t.match(rev, { status: 200, body: { relayId: ids[2], action: 'on', turnedOff: [ids[1]] } })
  await waitFor(() => board.state.get(2) === true)
  t.same(actions(board), ['off2', 'on1', 'off1', 'on2'])
  t.notOk(board.history.some(s => s[1] && s[2]), 'never both on, as the board saw it')

  // Two requests at once for the two channels: they run one after the other, never both on.
  const both = await Promise.all([
    h.call('POST', `/relays/${ids[1]}/on`, { token: op }),
    h.call('POST', `/relays/${ids[2]}/on`, { token: op })
  ])
  t.same(both.map(r => r.status), [200, 200])
  await waitFor(() => actions(board).length === 8)
  t.notOk(board.history.some(s => s[1] && s[2]), 'never both on under concurrent requests')

  const list = await h.call('GET', '/relays', { token: await h.token('viewer'), query: { deviceUuid: board.uuid } })
  t.same(
    list.body.items.map((r: { currentState: boolean }) => r.currentState),
    [false, true],
    'currentState is what the board reported'
  )
})

/** Waits until the board's response has closed the command, so moving the fake clock cannot fire its retry. */
async function ackedCommand (h: Harness, token: string, commandId: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if ((await h.call('GET', `/commands/${commandId}`, { token })).body.status === 'acked') return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error(`command ${commandId} not acked`)
}

t.test('a momentary hold over the API is released after its duration (injected clock)', async t => {
  const clock = new FakeClock()
  const h = harness(await startApp(t, { clock, config: { relays: { defaultHoldMs: 1500 } } }), t)
  const op = await h.token('operator')
  const { board, ids } = await onlineBoard(h, [{ channel: 1, function: 'momentary' }])

  const hold = await h.call('POST', '/controls/hold', { token: op, body: { relayId: ids[1], durationMs: 5000 } })
  t.match(hold, { status: 200, body: { relayId: ids[1], action: 'on', holdMs: 5000 } })
  await waitFor(() => actions(board).length === 1)
  await ackedCommand(h, op, hold.body.commandId)
  await clock.tick(4999)
  t.same(actions(board), ['on1'], 'still held just before its duration')
  await clock.tick(1)
  await waitFor(() => actions(board).length === 2)
  t.same(actions(board), ['on1', 'off1'], 'released after it')

  // `on` on a momentary channel is a hold of relays.defaultHoldMs.
  const on = await h.call('POST', `/relays/${ids[1]}/on`, { token: op })
  t.match(on, { status: 200, body: { holdMs: 1500 } })
  await waitFor(() => actions(board).length === 3)
  await ackedCommand(h, op, on.body.commandId)
  await clock.tick(1500)
  await waitFor(() => actions(board).length === 4)
  t.same(actions(board).slice(2), ['on1', 'off1'])

  t.match(
    await h.call('POST', '/controls/hold', { token: op, body: { relayId: ids[1], durationMs: 60_000 } }),
    { status: 400, body: { error: { code: 'GW_ERR_RELAY_BAD_REQUEST', message: /relays.maxHoldMs/ } } },
    'a hold over relays.maxHoldMs is refused by the service'
  )
  t.match(await h.call('POST', '/controls/hold', { token: op, body: { relayId: 999999 } }), {
    status: 404,
    body: { error: { code: 'GW_ERR_RELAY_NOT_FOUND' } }
  })
})

t.test('relay configuration: unknown device 404, limits checked across fields, changes reach the service', async t => {
  const h = harness(await startApp(t), t)
  const admin = await h.token('admin')
  const op = await h.token('operator')
  t.match(
    await h.call('POST', '/relays', {
      token: admin,
      body: { deviceUuid: 'no-such-board', channelNumber: 1, name: 'x', function: 'toggle' }
    }),
    { status: 404, body: { error: { code: 'GW_ERR_DEVICE_NOT_FOUND' } } }
  )
  const { uuid } = await provisionDevice(h.app)
  t.match(
    await h.call('POST', '/relays', {
      token: admin,
      body: { deviceUuid: uuid, channelNumber: 1, name: 'x', function: 'pulse', maxOnMs: 100, pulseMs: 500 }
    }),
    { status: 400, body: { error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'body', field: '/pulseMs' }] } } }
  )
  t.match(
    await h.call('POST', '/relays', {
      token: admin,
      body: { deviceUuid: uuid, channelNumber: 1, name: 'x', function: 'flash' }
    }),
    { status: 400, body: { error: { details: [{ in: 'body', field: '/function' }] } } }
  )

  const { board, ids } = await onlineBoard(h, [{ channel: 1, function: 'pulse', pulseMs: 200 }])
  t.match(await h.call('PATCH', `/relays/${ids[1]}`, { token: admin, body: { maxOnMs: 100 } }),
    { status: 400, body: { error: { details: [{ field: '/pulseMs' }] } } }, 'a limit below the stored pulse is refused')
  t.match(await h.call('PATCH', `/relays/${ids[1]}`, { token: admin, body: { pulseMs: 300 } }), {
    status: 200,
    body: { pulseMs: 300 }
  })
  const pulse = await h.call('POST', `/relays/${ids[1]}/pulse`, { token: op })
  t.equal(pulse.status, 200)
  await waitFor(() => board.commands.length === 1)
  t.match(
    board.commands[0].body,
    { channel: 1, action: 'pulse', duration_ms: 300 },
    'the pulse uses the changed pulseMs'
  )
  t.match(await h.call('PATCH', `/relays/${ids[1]}`, { token: admin, body: { maxOnMs: 1000 } }), { status: 200 })
  t.match(await h.call('POST', `/relays/${ids[1]}/pulse`, { token: op, body: { durationMs: 5000 } }),
    { status: 400, body: { error: { code: 'GW_ERR_RELAY_BAD_REQUEST', message: /max_on_ms/ } } }, 'a pulse over ' +
      'max_on_ms is refused by the service')
  t.match(
    await h.call('PATCH', `/relays/${ids[1]}`, { token: admin, body: {} }),
    { status: 400 },
    'an empty patch is refused'
  )
})

import t from 'tap'
import { startApp } from '../helpers/app.js'
import { waitFor } from '../helpers/mqtt.js'
import { harness } from './cases/harness.js'
import { onlineBoard } from './cases/relays.js'
import { storedItem, storedScreen } from './cases/screens.js'

const relayActions = (b: { commands: Array<{ topic: string, body: Record<string, any> }> }): string[] =>
  b.commands
    .filter(c => c.topic.startsWith('autocore/relays/'))
    .map(c => `${String(c.body.action)}${String(c.body.channel)}`)

t.test('screen-item mutex groups: concurrent activations across boards never leave two of a group on', async t => {
  const h = harness(await startApp(t), t)
  const op = await h.token('operator')
  // The group spans two boards and is no relay mutex group: only the screen items say they exclude each other.
  const a = await onlineBoard(h, [{ channel: 1 }])
  const b = await onlineBoard(h, [{ channel: 1 }])
  const screen = await storedScreen(h)
  const low = await storedItem(h, screen, { relayChannelId: a.ids[1], mutexGroup: 'fan-speed', label: 'low' })
  const high = await storedItem(h, screen, { relayChannelId: b.ids[1], mutexGroup: 'fan-speed', label: 'high' })
  const off = await storedItem(h, screen, { mutexGroup: 'fan-speed', label: 'off (no relay)' })

  const first = await h.call('POST', `/screens/items/${low}/activate`, { token: op })
  t.match(first, { status: 200, body: { itemId: low, relayId: a.ids[1], action: 'on', deactivated: [high, off] } })
  await waitFor(() => a.board.state.get(1) === true)
  const on = (): number => Number(a.board.state.get(1) === true) + Number(b.board.state.get(1) === true)

  let maxOn = 0
  const watch = (): void => { maxOn = Math.max(maxOn, on()) }
  a.board.client.on('message', watch)
  b.board.client.on('message', watch)
  const results = await Promise.all([
    h.call('POST', `/screens/items/${high}/activate`, { token: op }),
    h.call('POST', `/screens/items/${low}/activate`, { token: op }),
    h.call('POST', `/screens/items/${high}/activate`, { token: op })
  ])
  t.same(results.map(r => r.status), [200, 200, 200])
  // The three ran one after the other, in whatever order they reached the gateway: one of the two is on now.
  await waitFor(() => on() === 1 && a.board.commands.length + b.board.commands.length >= 5)
  t.equal(maxOn, 1, 'the two boards were never on together')
  t.ok(relayActions(b.board).includes('on1'), 'high was switched on at some point')
})

t.test('activation honours the channel\'s own relay mutex group, the item\'s action, and the emergency ' +
  'lockout', async t => {
  const h = harness(await startApp(t), t)
  const op = await h.token('operator')
  const { board, ids } = await onlineBoard(h, [
    { channel: 1, mutexGroup: 'drive' },
    { channel: 2, mutexGroup: 'drive' },
    { channel: 3, pulseMs: 400 }
  ])
  const screen = await storedScreen(h)
  const fwd = await storedItem(h, screen, { relayChannelId: ids[1] })
  const rev = await storedItem(h, screen, { relayChannelId: ids[2] })
  const horn = await storedItem(h, screen, {
    relayChannelId: ids[3],
    action: { relayAction: 'pulse', durationMs: 250 }
  })

  await h.call('POST', `/screens/items/${fwd}/activate`, { token: op })
  await waitFor(() => board.state.get(1) === true)
  const r = await h.call('POST', `/screens/items/${rev}/activate`, { token: op })
  t.match(
    r,
    { status: 200, body: { turnedOff: [ids[1]], deactivated: [fwd] } },
    'the relay group\'s other channel (and its item) went off'
  )
  await waitFor(() => board.state.get(2) === true)
  t.notOk(board.history.some(s => s[1] && s[2]), 'never both on')

  const p = await h.call('POST', `/screens/items/${horn}/activate`, { token: op })
  t.match(p, { status: 200, body: { action: 'pulse' } })
  await waitFor(() => board.commands.some(c => c.body.command_id === p.body.commandId))
  t.match(
    board.commands.find(c => c.body.command_id === p.body.commandId)?.body,
    { channel: 3, action: 'pulse', duration_ms: 250 },
    'the item\'s action decides'
  )

  const n = board.commands.length
  await h.app.gateway.services.emergency.trigger({ reason: 'test', actor: { kind: 'gateway' } })
  await waitFor(() => board.commands.length === n + 3)
  t.match(await h.call('POST', `/screens/items/${fwd}/activate`, { token: op }), {
    status: 423,
    body: { error: { code: 'GW_ERR_EMERGENCY_ACTIVE' } }
  })
  // A later off-command is the sync point: had the activation sent anything, the board would have it before this.
  const sync = await h.call('POST', `/relays/${ids[3]}/off`, { token: op })
  await waitFor(() => board.commands.some(c => c.body.command_id === sync.body.commandId))
  t.same(
    relayActions(board).slice(n),
    ['off1', 'off2', 'off3', 'off3'],
    'the emergency\'s offs and the sync off: nothing turned on'
  )
})

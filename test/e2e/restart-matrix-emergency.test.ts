import t, { type Test } from 'tap'
import { simBoardAt } from '../helpers/boards.js'
import { nextMessage } from '../helpers/mqtt.js'
import { apiAs, eventually, operatorAndAdmin, prepare, relayBoard, startProcess, stopWith } from '../helpers/restart.js'

/*
 * The restart matrix of issue 14, part 2: (d) the real process stopped (SIGTERM) or killed (SIGKILL) while an
 * emergency stop is active, with one board that acknowledged it and one that was offline (with an 'on' still
 * waiting for it from before the stop). After the restart the emergency is still latched, relay-on is refused,
 * and every board that reconnects is told: its channels are turned off and its roll-call entry follows; the 'on'
 * queued before the stop never reaches its board.
 */
const env = { AUTOCORE_COMMANDS_ACK_TIMEOUT_MS: '60000', AUTOCORE_COMMANDS_TTL_MS: '600000' }

async function matrix (t: Test, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const dataDir = t.testdir()
  const setup = await prepare(t, dataDir, async app => ({
    e1: await relayBoard(app, [{ channel: 1 }, { channel: 2 }]),
    e2: await relayBoard(app, [{ channel: 1 }]),
    ...await operatorAndAdmin(app)
  }))
  const { e1, e2 } = setup

  const first = await startProcess(t, dataDir, env)
  const board1 = await simBoardAt(t, first.mqttUrl, e1)
  await nextMessage(board1.client, 'autocore/emergency/state')
  const op = await apiAs(first, setup.operator)
  t.equal((await op('POST', `/relays/${e1.ids[1]}/on`)).status, 200)
  await eventually('board 1 on', () => board1.state.get(1) === true)
  const queued = await op('POST', `/relays/${e2.ids[1]}/on`)
  t.equal(queued.body.status, 'pending', 'board 2 is offline: its on waits')
  t.equal((await op('POST', '/emergency/stop', { reason: 'smoke' })).body.active, true)
  await eventually('board 1 off', () => board1.state.get(1) === false)

  await stopWith(first, signal)
  board1.state.set(1, true) // switched on by hand while the gateway was down
  const second = await startProcess(t, dataDir, env)
  const op2 = await apiAs(second, setup.operator)
  t.equal((await op2('GET', '/emergency')).body.active, true, 'still latched')
  t.equal((await op2('POST', `/relays/${e1.ids[2]}/on`)).status, 423, 'relay-on still refused')
  t.equal(
    (await op2('GET', `/commands/${String(queued.body.commandId)}`)).body.status,
    'expired',
    'the on queued before the stop is closed'
  )

  await board1.reconnect(second.mqttUrl)
  const board2 = await simBoardAt(t, second.mqttUrl, e2)
  await eventually('board 1 told', () => board1.state.get(1) === false)
  await eventually('roll-call', async () => {
    const rc = (await op2('GET', '/emergency')).body.rollCall ?? {}
    return rc[e1.uuid] === 'acked' && rc[e2.uuid] === 'acked'
  })
  t.notOk(board2.commands.some(c => c.body.action === 'on'), 'the queued on never reached board 2')
  t.same(board2.history, [{ 1: false }])
  t.notOk([...board1.state.values()].some(Boolean), 'every channel of board 1 off')
  await stopWith(second, 'SIGTERM')
}

t.test('SIGTERM with an emergency active', async t => { await matrix(t, 'SIGTERM') })
t.test('kill -9 with an emergency active', async t => { await matrix(t, 'SIGKILL') })

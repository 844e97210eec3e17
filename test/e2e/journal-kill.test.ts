import t from 'tap'
import { simBoardAt } from '../helpers/boards.js'
import { apiAs, eventually, operatorAndAdmin, prepare, relayBoard, startProcess, stopWith } from '../helpers/restart.js'

/*
 * Issue 14, acceptance 4: the journal survives a kill -9. The real process takes a stream of relay requests over the
 * API (not awaited) and is killed with SIGKILL while they flow; after the restart, every command the simulated board
 * received has its accepted journal row (joined by command id), with who asked and through what.
 */
t.test('kill -9 mid-stream: every command that reached the board has its journal row after the restart', async t => {
  const dataDir = t.testdir()
  const setup = await prepare(t, dataDir, async app => ({
    board: await relayBoard(app, [{ channel: 1 }, { channel: 2 }, { channel: 3 }]),
    ...(await operatorAndAdmin(app))
  }))
  const env = { AUTOCORE_COMMANDS_ACK_TIMEOUT_MS: '60000' }

  const first = await startProcess(t, dataDir, env)
  const board = await simBoardAt(t, first.mqttUrl, setup.board)
  const op = await apiAs(first, setup.operator)
  // Warm up: one request through, so the board is known online.
  t.equal((await op('POST', `/relays/${setup.board.ids[1]}/on`)).status, 200)
  await eventually('first command', () => board.commands.length >= 1)

  const flow = { on: true }
  const stream = (async () => {
    for (let i = 0; flow.on; i++) {
      const ch = setup.board.ids[1 + (i % 3)]
      void op('POST', `/relays/${ch}/${i % 2 === 0 ? 'on' : 'off'}`).catch(() => {})
      await new Promise(resolve => setImmediate(resolve))
    }
  })()
  await eventually('commands flowing', () => board.commands.length >= 40)
  await stopWith(first, 'SIGKILL')
  flow.on = false
  await stream
  const received = [...new Set(board.commands.map(c => String(c.body.command_id)))]
  t.ok(received.length >= 40, `the board received ${received.length} commands before the kill`)

  const second = await startProcess(t, dataDir, env)
  const admin = await apiAs(second, setup.admin)
  const journal = (await admin('GET', '/journal?since=0&limit=1000')).body.items as Array<Record<string, any>>
  const journaled = new Map(journal.map(e => [e.commandId, e]))
  const missing = received.filter(id => !journaled.has(id))
  t.same(missing, [], 'no command reached the board without its journal row')
  for (const id of received) {
    t.match(journaled.get(id), {
      actor: setup.operator.username,
      role: 'operator',
      transport: 'api',
      outcome: 'accepted',
      action: /^relay\.(on|off)$/,
      target: new RegExp(`^${setup.board.uuid}/[123]$`)
    })
  }
  await stopWith(second, 'SIGTERM')
})

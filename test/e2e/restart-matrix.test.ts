import t, { type Test } from 'tap'
import { Macro, MacroAction } from '../../entities/index.js'
import { simBoardAt, type SimBoard } from '../helpers/boards.js'
import { nextMessage } from '../helpers/mqtt.js'
import { apiAs, eventually, operatorAndAdmin, prepare, relayBoard, startProcess, stopWith } from '../helpers/restart.js'
import { startReceiver } from '../helpers/webhook-receiver.js'

/*
 * The restart matrix of issue 14, part 1: the real process (dist/src/main.js) stopped by SIGTERM or killed with
 * SIGKILL while, at once,
 *   (a) a command is sent (carried out by its board, whose answer is lost) and another pending (board offline),
 *   (b) a momentary hold is active,
 *   (c) a macro is between two steps,
 *   (e) webhook deliveries are pending (one in flight: the receiver hangs).
 * After the restart and the boards' reconnect, each ends in its documented safe state (README "Restarts and power
 * cuts"), nothing is carried out twice and nothing is lost. Timing knobs are far beyond the test's length, so nothing
 * expires or retries by itself: what happens after the restart is the restart's doing.
 */
const env = {
  AUTOCORE_COMMANDS_ACK_TIMEOUT_MS: '60000',
  AUTOCORE_COMMANDS_TTL_MS: '600000',
  AUTOCORE_RELAYS_MAX_HOLD_MS: '600000',
  AUTOCORE_WEBHOOKS_TIMEOUT_MS: '60000'
}

const relayActions = (b: SimBoard): string[] =>
  b.commands
    .filter(c => c.topic.startsWith('autocore/relays/'))
    .map(c => `${String(c.body.action)}${String(c.body.channel)}`)

async function matrix (t: Test, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const dataDir = t.testdir()
  const rx = await startReceiver(t, () => 'hang')
  const setup = await prepare(t, dataDir, async app => {
    const a = await relayBoard(app, [{ channel: 1 }])
    const p = await relayBoard(app, [{ channel: 1 }])
    const b = await relayBoard(app, [{ channel: 3, function: 'momentary' }])
    const c = await relayBoard(app, [{ channel: 1 }, { channel: 2 }])
    const ds = app.gateway.services.db.dataSource
    const macroId = (
      await ds.getRepository(Macro).insert({ name: 'two steps', enabled: true, createdAt: 0, updatedAt: 0 })
    ).identifiers[0].id as number
    const steps = [
      { actionType: 'relay', params: { device_uuid: c.uuid, channel: 1, action: 'on' } },
      { actionType: 'delay', params: { ms: 500000 } },
      { actionType: 'relay', params: { device_uuid: c.uuid, channel: 2, action: 'on' } }
    ]
    for (const [i, s] of steps.entries()) {
      await ds
        .getRepository(MacroAction)
        .insert({ macroId, position: i + 1, actionType: s.actionType, params: s.params, condition: null } as never)
    }
    const hook = await app.gateway.services.repos.webhooks.create(
      { url: rx.url, secret: 's'.repeat(16), events: ['*'], minLevel: 'info', enabled: true },
      Date.now()
    )
    return { a, p, b, c, macroId, hookId: hook.id, ...await operatorAndAdmin(app) }
  })
  const { a, p, b, c, macroId } = setup

  const first = await startProcess(t, dataDir, env)
  const boardA = await simBoardAt(t, first.mqttUrl, { ...a, mode: 'mute' })
  const boardB = await simBoardAt(t, first.mqttUrl, b)
  const boardC = await simBoardAt(t, first.mqttUrl, c)
  for (const board of [boardA, boardB, boardC]) await nextMessage(board.client, 'autocore/emergency/state')
  const op = await apiAs(first, setup.operator)

  // (a) sent: carried out by the board, its answer lost; pending: the board is offline.
  const sent = await op('POST', `/relays/${a.ids[1]}/on`)
  t.equal(sent.status, 200, JSON.stringify(sent.body))
  await eventually('board A on', () => boardA.state.get(1) === true)
  const pending = await op('POST', `/relays/${p.ids[1]}/on`)
  t.equal(pending.body.status, 'pending')
  // (b) a hold far longer than the test.
  t.equal((await op('POST', '/controls/hold', { relayId: b.ids[3], durationMs: 500000 })).status, 200)
  await eventually('board B held', () => boardB.state.get(3) === true)
  // (c) the macro's first step done, its delay running.
  t.equal((await op('POST', `/macros/${macroId}/execute`)).status, 202)
  await eventually('macro step 1', () => boardC.state.get(1) === true)
  // (e) a delivery in flight (the receiver never answers) and more queued behind it.
  await eventually('a delivery in flight', () => rx.hits.length >= 1)
  t.equal((await op('GET', `/commands/${String(sent.body.commandId)}`)).body.status, 'sent')

  await stopWith(first, signal)
  rx.respond = () => 200
  const second = await startProcess(t, dataDir, env)
  boardA.mode = 'ok'
  for (const board of [boardA, boardB, boardC]) await board.reconnect(second.mqttUrl)
  const boardP = await simBoardAt(t, second.mqttUrl, p)
  const op2 = await apiAs(second, setup.operator)
  const admin = await apiAs(second, setup.admin)

  // (a) both commands reach their outcome; the one carried out before is not carried out again.
  await eventually(
    'command sent before the restart acked',
    async () => (await op2('GET', `/commands/${String(sent.body.commandId)}`)).body.status === 'acked'
  )
  await eventually(
    'command pending before the restart acked',
    async () => (await op2('GET', `/commands/${String(pending.body.commandId)}`)).body.status === 'acked'
  )
  t.same(boardA.history, [{ 1: true }], 'board A switched once')
  t.same(boardP.history, [{ 1: true }], 'board P switched once')
  // (b) the hold's safe state: off.
  await eventually('hold released', () => boardB.state.get(3) === false)
  t.same(boardB.history, [{ 3: true }, { 3: false }])
  // (c) the run is interrupted, never resumed.
  const runs = (await op2('GET', `/macros/${macroId}/runs`)).body.items as Array<{ status: string }>
  t.same(runs.map(r => r.status), ['interrupted'])
  // (e) every delivery delivered, each event under one delivery id only.
  await eventually('every delivery delivered', async () => {
    const page = await admin('GET', `/webhooks/${String(setup.hookId)}/deliveries?limit=200`)
    return page.body.items.length > 0 && page.body.items.every((d: { status: string }) => d.status === 'delivered')
  })
  const idsByEvent = new Map<number, Set<string>>()
  for (const hit of rx.hits) {
    const ids = idsByEvent.get(hit.json.event.id) ?? new Set()
    ids.add(String(hit.headers['x-autocore-delivery']))
    idsByEvent.set(hit.json.event.id, ids)
  }
  t.same([...idsByEvent.values()].filter(s => s.size > 1), [], 'no event delivered under a second id')
  const delivered = (await admin('GET', `/webhooks/${String(setup.hookId)}/deliveries?limit=200`)).body.items as Array<{
    id: number
  }>
  t.same(delivered.filter(d => rx.of(d.id).length === 0), [], 'nothing lost: every delivery reached the receiver')
  t.same(relayActions(boardC), ['on1'], 'board C got the first step only')
  await stopWith(second, 'SIGTERM')
}

t.test('SIGTERM in the middle of control work', async t => { await matrix(t, 'SIGTERM') })
t.test('kill -9 in the middle of control work', async t => { await matrix(t, 'SIGKILL') })

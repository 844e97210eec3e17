import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { RetentionService } from '../../src/services/retention.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { simBoard } from '../helpers/boards.js'
import { createUser, login, userClient } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { waitFor } from '../helpers/mqtt.js'

// Acceptance 4 of issue 14: the journal answers "who turned relay 3 on at 14:02 and through what", for every action
// kind, over the API and the CLI. The injected clock makes the times exact.

const T0 = Date.UTC(2026, 4, 1, 14, 2, 0)
const at = (s: number): number => T0 + s * 1000
const iso = (ms: number): string => new Date(ms).toISOString()

async function api (
  app: RunningApp,
  token: string,
  method: string,
  path: string,
  body?: unknown
): Promise<{ status: number, body: any }> {
  const res = await fetch(`${app.httpUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' })
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

async function cli (dataDir: string, args: string[]): Promise<{ code: number, lines: string[], errors: string[] }> {
  const lines: string[] = []
  const errors: string[] = []
  const code = await runCli(
    ['node', 'autocore-gateway', ...args],
    {
      env: { AUTOCORE_DATA_DIR: dataDir },
      out: l => lines.push(l),
      err: l => errors.push(l),
      readStdin: async () => ''
    },
    { once: () => {} }
  )
  return { code, lines, errors }
}

t.test('every control action kind is journaled with who, through what, when and the outcome; API and CLI ' +
  'answer', async t => {
  const clock = new FakeClock(T0 - 60_000)
  const app = await startApp(t, { clock })
  const operator = await createUser(app, { username: 'olga', role: 'operator' })
  const admin = await createUser(app, { username: 'adam', role: 'admin' })
  const viewer = await createUser(app, { username: 'vera', role: 'viewer' })
  const op = await login(app, operator.username, operator.password)
  const ad = await login(app, admin.username, admin.password)
  const vi = await login(app, viewer.username, viewer.password)
  const board = await simBoard(t, app, { channels: [{ channel: 3 }, { channel: 5 }] })
  await waitFor(() => app.gateway.services.commands.isOnline(board.uuid))
  const ids = Object.fromEntries(
    (await app.gateway.services.repos.relays.list({ limit: 10, offset: 0 }, board.uuid)).rows.map(r => [
      r.channelNumber,
      r.id
    ])
  )
  const macroId = await app.gateway.services.repos.macros.create(
    { name: 'lights', description: null, enabled: true, actions: [{ type: 'delay', params: { ms: 3_600_000 } }] },
    clock.now()
  )
  const panel = await userClient(t, app, 'operator')

  const when = async (s: number): Promise<void> => { await clock.tick(at(s) - clock.now()) }
  const r3 = `${board.uuid}/3`

  // 14:02:00 olga turns relay 3 on over the API.
  await when(0)
  const on = await api(app, op, 'POST', `/relays/${ids[3]}/on`, {})
  t.equal(on.status, 200)
  await when(10)
  t.equal((await api(app, op, 'POST', `/relays/${ids[3]}/off`)).status, 200)
  await when(20)
  t.equal((await api(app, op, 'POST', `/relays/${ids[3]}/toggle`, {})).status, 200)
  await when(30)
  t.equal((await api(app, op, 'POST', `/relays/${ids[3]}/pulse`, { durationMs: 250 })).status, 200)
  await when(40)
  t.equal((await api(app, op, 'POST', '/controls/hold', { relayId: ids[5], durationMs: 1000 })).status, 200)
  // 14:02:50 a panel user turns relay 3 on over MQTT.
  await when(50)
  await panel.client.publishAsync(
    `autocore/relays/${board.uuid}/set`,
    JSON.stringify({ channel: 3, action: 'on', command_id: 'panel-cmd-1' }),
    { qos: 1 }
  )
  await waitFor(() => board.done.has('panel-cmd-1'))
  await when(60)
  t.equal((await api(app, op, 'POST', `/macros/${String(macroId)}/execute`)).status < 300, true, 'macro started')
  await when(70)
  t.equal((await api(app, op, 'POST', `/macros/${String(macroId)}/cancel`)).status, 200)
  await when(80)
  t.equal((await api(app, op, 'POST', '/emergency/stop', { reason: 'smoke' })).status, 200)
  await when(90)
  const refused = await api(app, op, 'POST', `/relays/${ids[3]}/on`, {})
  t.equal(refused.status, 423, 'refused during the emergency')
  await when(110)
  t.equal((await api(app, ad, 'POST', '/emergency/reset')).status, 200)
  await when(120)
  t.equal((await api(app, ad, 'PUT', `/devices/${board.uuid}/config`, { config: { brightness: 3 } })).status, 200)

  // Viewers and operators may not read it.
  t.equal((await api(app, vi, 'GET', '/journal')).status, 403)
  t.equal((await api(app, op, 'GET', '/journal')).status, 403)

  // Who turned relay 3 on at 14:02, and through what?
  const answer = await api(
    app,
    ad,
    'GET',
    `/journal?target=${encodeURIComponent(r3)}&action=relay.on&since=${iso(at(0))}&until=${iso(at(59))}`
  )
  t.equal(answer.status, 200)
  t.match(answer.body.items, [
    {
      at: iso(at(0)),
      actor: 'olga',
      actorKind: 'user',
      role: 'operator',
      transport: 'api',
      address: /127\.0\.0\.1/,
      action: 'relay.on',
      target: r3,
      outcome: 'accepted',
      errorCode: null,
      commandId: on.body.commandId
    },
    {
      at: iso(at(50)),
      actor: panel.username,
      role: 'operator',
      transport: 'ws',
      address: /127\.0\.0\.1/,
      action: 'relay.on',
      outcome: 'accepted',
      commandId: 'panel-cmd-1'
    }
  ])
  t.equal(answer.body.items.length, 2)
  t.ok(
    board.commands.some(c => c.body.command_id === on.body.commandId && c.body.action === 'on'),
    'the journal command id is the one the board received'
  )

  const all = (await api(app, ad, 'GET', `/journal?since=${iso(at(0))}`)).body.items as Array<Record<string, any>>
  t.same(all.map(e => [e.at, e.action, e.actor, e.outcome, e.errorCode]), [
    [iso(at(0)), 'relay.on', 'olga', 'accepted', null],
    [iso(at(10)), 'relay.off', 'olga', 'accepted', null],
    [iso(at(20)), 'relay.toggle', 'olga', 'accepted', null],
    [iso(at(30)), 'relay.pulse', 'olga', 'accepted', null],
    [iso(at(40)), 'relay.hold', 'olga', 'accepted', null],
    [iso(at(50)), 'relay.on', panel.username, 'accepted', null],
    [iso(at(60)), 'macro.run', 'olga', 'accepted', null],
    [iso(at(70)), 'macro.cancel', 'olga', 'accepted', null],
    [iso(at(80)), 'emergency.stop', 'olga', 'accepted', null],
    [iso(at(90)), 'relay.on', 'olga', 'refused', 'GW_ERR_EMERGENCY_ACTIVE'],
    [iso(at(110)), 'emergency.reset', 'adam', 'accepted', null],
    [iso(at(120)), 'device.config', 'adam', 'accepted', null]
  ])
  t.match(all[3].params, { duration_ms: 250 })
  t.match(all[4], { target: `${board.uuid}/5`, params: { duration_ms: 1000 } })
  t.match(all[6], { target: `macro:${String(macroId)}`, params: { run_id: Number } })
  t.match(all[8], { target: 'gateway', params: { reason: 'smoke' } })
  t.match(all[11], { target: `device:${board.uuid}`, params: { version: Number } })
  for (const e of all.filter(e => e.action.startsWith('relay.') && e.outcome === 'accepted')) {
    const cmd = await api(app, ad, 'GET', `/commands/${String(e.commandId)}`)
    t.equal(cmd.status, 200, `${String(e.action)} at ${String(e.at)} joins its command`)
  }

  // The CLI reads the same from the database.
  const text = await cli(app.config.dataDir, ['journal', '--since', iso(at(0)), '--until', iso(at(0))])
  t.equal(text.code, 0, text.errors.join('\n'))
  t.match(text.lines[0], /^at\s+actor\s+role\s+transport/)
  t.match(
    text.lines[1],
    new RegExp(
      `^${iso(at(0)).replace(/\./g, '\\.')}\\s+olga\\s+operator\\s+api\\s+\\S+\\s+relay\\.on\\s+${r3}` +
        `\\s+-\\s+accepted\\s+-\\s+${String(on.body.commandId)}$`
    )
  )
  t.equal(text.lines.length, 2)
  const json = await cli(app.config.dataDir, ['journal', '--since', iso(at(0)), '--json'])
  t.equal(json.code, 0)
  t.same(JSON.parse(json.lines[0]), all, 'the CLI --json is the API answer')
  t.equal((await cli(app.config.dataDir, ['journal', '--since', 'yesterday'])).code, 2, 'a bad time is a usage error')
})

t.test('the retention job deletes journal rows older than journal.retentionDays', async t => {
  const clock = new FakeClock(T0)
  const app = await startApp(t, { clock, config: { journal: { retentionDays: 1 } } })
  const actor = { kind: 'gateway' } as const
  await app.gateway.services.journal.accepted(actor, { action: 'relay.on', target: 'x/1' })
  clock.advance(2 * 86_400_000)
  await app.gateway.services.journal.accepted(actor, { action: 'relay.on', target: 'x/2' })
  const report = await new RetentionService(app.gateway.services).runOnce()
  t.equal(report.journalDeleted, 1)
  t.same((await app.gateway.services.repos.journal.find({ limit: 10 })).map(e => e.target), ['x/2'])
})

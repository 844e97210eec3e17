import t, { type Test } from 'tap'
import { Command, EventLog } from '../../entities/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { simBoard } from '../helpers/boards.js'
import { provisionDevice } from '../helpers/devices.js'
import { collect, connect, waitFor, type Client } from '../helpers/mqtt.js'

const config = { commands: { ackTimeoutMs: 1000, maxAttempts: 3, ttlMs: 60000 } }

async function row (app: RunningApp, commandId: string): Promise<Command> {
  return await app.gateway.services.db.dataSource.getRepository(Command).findOneByOrFail({ commandId })
}

/** Polls an async condition (a DB row written off the test's path) every 10 ms, for up to 5 s. */
async function eventually (cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('condition not met in time')
}

async function online (app: RunningApp, uuid: string): Promise<void> {
  await waitFor(() => app.gateway.services.commands.isOnline(uuid))
}

/**
 * Connects as a provisioned device with a persistent session (clean=false), as the firmware does. The gateway
 * counts a device online at its CONNECT and sends pending commands then, before a fresh client could subscribe:
 * it is the session kept by the broker (on disk, across restarts) that delivers them at once.
 */
async function persistentDevice (t: Test, app: RunningApp, uuid: string, secret: string): Promise<Client> {
  return await connect(t, app.mqttUrl, { clientId: uuid, username: uuid, password: secret, clean: false })
}

/** First boot of a device: connects, subscribes to its command topic (kept in its session), goes away. */
async function firstBoot (t: Test, app: RunningApp, uuid: string, secret: string): Promise<void> {
  const client = await persistentDevice(t, app, uuid, secret)
  await client.subscribeAsync(`autocore/devices/${uuid}/command`, { qos: 1 })
  await client.endAsync()
  await waitFor(() => !app.gateway.services.commands.isOnline(uuid))
}

t.test('command ack: published QoS 1 with command_id, closed by the response, latency recorded', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config })
  const board = await simBoard(t, app, { mode: 'silent' })
  await online(app, board.uuid)
  const sent = await app.gateway.services.commands.send({
    deviceUuid: board.uuid,
    command: 'reboot',
    params: { delay_s: 1 },
    source: 'api',
    username: 'alice'
  })
  t.match(await row(app, sent.commandId), { status: 'sent', attempts: 1, source: 'api', username: 'alice' })
  await waitFor(() => board.commands.length === 1)
  t.same(board.commands[0], {
    topic: `autocore/devices/${board.uuid}/command`,
    body: { command_id: sent.commandId, command: 'reboot', params: { delay_s: 1 } }
  })
  await clock.tick(40)
  await board.client.publishAsync(
    `autocore/devices/${board.uuid}/response`,
    JSON.stringify({ command_id: sent.commandId, status: 'ok' }),
    { qos: 1 }
  )
  t.match(await sent.outcome, { status: 'acked', latencyMs: 40 })
  t.match(await row(app, sent.commandId), { status: 'acked', attempts: 1, latencyMs: 40, completedAt: clock.now() })
})

t.test('an error response fails the command and logs an error event', async t => {
  const app = await startApp(t, { clock: new FakeClock(), config })
  const board = await simBoard(t, app, { mode: 'error' })
  await online(app, board.uuid)
  const sent = await app.gateway.services.commands.send({
    deviceUuid: board.uuid,
    command: 'calibrate',
    params: {},
    source: 'api'
  })
  t.match(await sent.outcome, { status: 'failed', message: 'relay driver fault' })
  const ev = await app.gateway.services.db.dataSource
    .getRepository(EventLog)
    .findOneByOrFail({ eventType: 'command_failed' })
  t.match(ev, { level: 'error', target: board.uuid, payload: { command_id: sent.commandId } })
})

t.test('retry then timeout: re-sent with the same command_id after each ack timeout, then given up', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config })
  const board = await simBoard(t, app, { mode: 'silent' })
  await online(app, board.uuid)
  const sent = await app.gateway.services.commands.send({
    deviceUuid: board.uuid,
    command: 'ping',
    params: {},
    source: 'api'
  })
  await waitFor(() => board.commands.length === 1)
  await clock.tick(999)
  t.equal(board.commands.length, 1, 'not re-sent before the ack timeout')
  await clock.tick(1)
  await waitFor(() => board.commands.length === 2)
  t.match(await row(app, sent.commandId), { status: 'sent', attempts: 2 })
  await clock.tick(1000)
  await waitFor(() => board.commands.length === 3)
  await clock.tick(1000)
  t.match(await sent.outcome, { status: 'timeout' })
  t.same(board.commands.map(c => c.body.command_id), [sent.commandId, sent.commandId, sent.commandId])
  t.match(await row(app, sent.commandId), { status: 'timeout', attempts: 3, latencyMs: null })
  const ev = await app.gateway.services.db.dataSource
    .getRepository(EventLog)
    .findOneByOrFail({ eventType: 'command_timeout' })
  t.match(ev, { level: 'warning', payload: { command_id: sent.commandId, attempts: 3 } })
  await clock.tick(5000)
  t.equal(board.commands.length, 3, 'nothing after the last attempt')
})

t.test('expiry while offline: a pending command is never sent after its ttl; one within ttl is sent on ' +
  'connect', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config })
  const { uuid, secret } = await provisionDevice(app)
  await firstBoot(t, app, uuid, secret)
  const stale = await app.gateway.services.commands.send({
    deviceUuid: uuid,
    command: 'stale',
    params: {},
    source: 'api'
  })
  t.match(await row(app, stale.commandId), { status: 'pending', attempts: 0, expiresAt: clock.now() + 60000 })
  await clock.tick(60000)
  t.match(await stale.outcome, { status: 'expired' })
  const fresh = await app.gateway.services.commands.send({
    deviceUuid: uuid,
    command: 'fresh',
    params: {},
    source: 'api'
  })
  const client = await persistentDevice(t, app, uuid, secret)
  const seen = collect(client)
  const commands = (): string[] =>
    seen.filter(m => m.topic === `autocore/devices/${uuid}/command`).map(m => JSON.parse(m.payload).command)
  await waitFor(() => commands().length === 1)
  await new Promise(resolve => setTimeout(resolve, 50))
  t.same(commands(), ['fresh'], 'only the command within its ttl is delivered')
  t.match(await row(app, stale.commandId), { status: 'expired', attempts: 0, sentAt: null })
  t.match(await row(app, fresh.commandId), { status: 'sent', attempts: 1 })
  t.ok(await app.gateway.services.db.dataSource.getRepository(EventLog).findOneBy({ eventType: 'command_expired' }))
})

t.test('idempotent on command_id: a repeated request creates no second command; a repeated response changes ' +
  'nothing', async t => {
  const app = await startApp(t, { clock: new FakeClock(), config })
  const board = await simBoard(t, app)
  await online(app, board.uuid)
  const req = {
    deviceUuid: board.uuid,
    command: 'open_valve',
    params: {},
    source: 'api' as const,
    commandId: '6f1e4a0c-1111-4222-8333-944455556666'
  }
  const [a, b] = await Promise.all([app.gateway.services.commands.send(req), app.gateway.services.commands.send(req)])
  t.same([a.duplicate, b.duplicate], [false, true], 'two simultaneous requests: one command')
  t.match(await a.outcome, { status: 'acked' })
  t.match(await b.outcome, { status: 'acked' })
  const again = await app.gateway.services.commands.send(req)
  t.equal(again.duplicate, true)
  t.match(await again.outcome, { status: 'acked' })
  await board.client.publishAsync(
    `autocore/devices/${board.uuid}/response`,
    JSON.stringify({ command_id: req.commandId, status: 'error' }),
    { qos: 1 }
  )
  t.equal(await app.gateway.services.db.dataSource.getRepository(Command).countBy({ commandId: req.commandId }), 1)
  t.match(await row(app, req.commandId), { status: 'acked' })
  t.equal(board.commands.filter(c => c.body.command_id === req.commandId).length, 1, 'the board got it once')
})

t.test('survives a restart: a pending command is sent after the restart; one past its ttl is expired, not ' +
  'replayed', async t => {
  const clock = new FakeClock()
  const dataDir = t.testdir()
  const first = await startApp(t, { clock, config, dataDir })
  const { uuid, secret } = await provisionDevice(first)
  await firstBoot(t, first, uuid, secret)
  const old = await first.gateway.services.commands.send({
    deviceUuid: uuid,
    command: 'old',
    params: {},
    source: 'api'
  })
  await clock.tick(30000)
  const recent = await first.gateway.services.commands.send({
    deviceUuid: uuid,
    command: 'recent',
    params: {},
    source: 'api'
  })
  await first.stop()
  await clock.tick(40000)
  const second = await startApp(t, { clock, config, dataDir })
  t.match(await row(second, old.commandId), { status: 'expired' })
  const client = await persistentDevice(t, second, uuid, secret)
  const seen = collect(client)
  const got = (): Array<Record<string, string>> =>
    seen.filter(m => m.topic === `autocore/devices/${uuid}/command`).map(m => JSON.parse(m.payload))
  await waitFor(() => got().length === 1)
  t.match(got(), [{ command: 'recent', command_id: recent.commandId }])
  await client.publishAsync(
    `autocore/devices/${uuid}/response`,
    JSON.stringify({ command_id: recent.commandId, status: 'ok' }),
    { qos: 1 }
  )
  t.match(second.logs.find(l => l.msg === 'open commands reloaded'), { reloaded: 1, expired: 1 })
  await eventually(async () => (await row(second, recent.commandId)).status === 'acked')
  t.match(await row(second, recent.commandId), { status: 'acked', attempts: 1 })
})

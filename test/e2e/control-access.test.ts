// FINISHED AT MERGE BY THE LEAD: these refusals come from the access branch's ACL (a refused publish closes the
// connection). With the placeholder helpers of the control branch every client is anonymous and allowed, so this
// file is excluded in package.json "tap.exclude" on branch issue-5; remove that exclusion when merging issue-3.
import t, { type Test } from 'tap'
import { EventLog, SystemStatus } from '../../entities/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { simBoard } from '../helpers/boards.js'
import { deviceClient, userClient } from '../helpers/devices.js'
import { waitFor, type Client } from '../helpers/mqtt.js'

/** Publishes and resolves 'closed' if the broker drops the connection instead of acknowledging. */
async function publishOutcome (client: Client, topic: string, body: unknown): Promise<'acked' | 'closed'> {
  const closed = new Promise<'closed'>(resolve => client.once('close', () => resolve('closed')))
  const acked = client.publishAsync(topic, JSON.stringify(body), { qos: 1 }).then(
    () => 'acked' as const,
    () => 'closed' as const
  )
  return await Promise.race([acked, closed])
}

async function emergencyActive (app: RunningApp): Promise<boolean> {
  const row = await app.gateway.services.db.dataSource.getRepository(SystemStatus).findOneBy({ key: 'emergency' })
  return (row?.value as { active?: boolean } | undefined)?.active === true
}

async function setup (t: Test): Promise<RunningApp> {
  return await startApp(t, { clock: new FakeClock(), config: { mqtt: { allowAnonymous: false } } })
}

t.test('a viewer may not trigger the emergency stop: connection closed, nothing triggered', async t => {
  const app = await setup(t)
  const { client } = await userClient(t, app, 'viewer')
  t.equal(await publishOutcome(client, 'autocore/emergency/stop', { reason: 'viewer' }), 'closed')
  t.equal(await emergencyActive(app), false)
})

t.test('a viewer may not set relays or run macros', async t => {
  const app = await setup(t)
  const board = await simBoard(t, app, { channels: [{ channel: 1 }] })
  const { client: v1 } = await userClient(t, app, 'viewer')
  t.equal(await publishOutcome(v1, `autocore/relays/${board.uuid}/set`, { channel: 1, action: 'on' }), 'closed')
  const { client: v2 } = await userClient(t, app, 'viewer')
  t.equal(await publishOutcome(v2, 'autocore/macros/1/run', {}), 'closed')
  t.same(board.commands, [])
})

t.test('an operator triggers, but may not reset; an admin resets and the event names the admin', async t => {
  const app = await setup(t)
  const { client: operator, username: opName } = await userClient(t, app, 'operator')
  t.equal(await publishOutcome(operator, 'autocore/emergency/stop', { reason: 'op' }), 'acked')
  t.equal(await emergencyActive(app), true)
  t.match(app.gateway.services.emergency.record, { source: `user:${opName}`, username: opName })
  const { client: op2 } = await userClient(t, app, 'operator')
  t.equal(await publishOutcome(op2, 'autocore/emergency/reset', {}), 'closed')
  t.equal(await emergencyActive(app), true)
  const { client: admin, username } = await userClient(t, app, 'admin')
  t.equal(await publishOutcome(admin, 'autocore/emergency/reset', {}), 'acked')
  t.equal(await emergencyActive(app), false)
  await waitFor(() => true)
  const ev = await app.gateway.services.db.dataSource
    .getRepository(EventLog)
    .findOneByOrFail({ eventType: 'emergency_reset' })
  t.equal(ev.username, username)
})

t.test('a device triggers the stop only with the emergency_button capability', async t => {
  const app = await setup(t)
  const { client: plain } = await deviceClient(t, app, { type: 'relay_board' })
  t.equal(await publishOutcome(plain, 'autocore/emergency/stop', {}), 'closed')
  t.equal(await emergencyActive(app), false)
  const { client: button, uuid } = await deviceClient(t, app, {
    type: 'emergency_button',
    capabilities: ['emergency_button']
  })
  t.equal(await publishOutcome(button, 'autocore/emergency/stop', {}), 'acked')
  t.match(app.gateway.services.emergency.record, { active: true, source: `device:${uuid}` })
})

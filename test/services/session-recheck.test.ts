import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { startApp } from '../helpers/app.js'
import { deviceClient, userClient } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import type { Client } from '../helpers/mqtt.js'

// The CLI changes the database from another process; the gateway finds those changes every auth.sessionRecheckMs.

t.test('a device or user disabled from the CLI, or a user given another role, is disconnected at the next ' +
  'recheck', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config: { auth: { sessionRecheckMs: 5000 } } })
  const cli = async (...args: string[]): Promise<number> =>
    await runCli(
      ['node', 'autocore-gateway', ...args],
      { env: { AUTOCORE_DATA_DIR: app.config.dataDir }, out: () => {}, err: () => {}, readStdin: async () => '' },
      { once: () => {} }
    )
  const closed = (c: Client): { closed: boolean } => {
    const state = { closed: false }
    c.once('close', () => { state.closed = true })
    return state
  }
  const board = await deviceClient(t, app)
  const bystander = await deviceClient(t, app)
  const operator = await userClient(t, app, 'operator', { transport: 'tcp' })
  const viewer = await userClient(t, app, 'viewer', { transport: 'tcp' })
  const removed = await deviceClient(t, app)
  const states = [board, bystander, operator, viewer, removed].map(s => closed(s.client))

  t.equal(await cli('device', 'disable', board.uuid), 0)
  t.equal(await cli('user', 'disable', viewer.username), 0)
  // as a direct edit of the database would
  await app.gateway.services.repos.users.update(operator.username, { role: 'viewer' }, clock.now())
  await app.gateway.services.repos.devices.remove(removed.uuid, clock.now())
  await clock.tick(4999)
  t.same(states.map(s => s.closed), [false, false, false, false, false], 'nothing before the recheck')
  await clock.tick(1)
  await new Promise(resolve => setTimeout(resolve, 100))
  t.same(
    states.map(s => s.closed),
    [true, false, true, true, true],
    'the disabled or deleted device, the disabled user and the demoted user are closed; the bystander stays'
  )
  t.ok(
    await bystander.client.subscribeAsync(`autocore/devices/${bystander.uuid}/command`),
    'the bystander still answers'
  )
  t.match(
    app.logs
      .filter(l => l.msg === 'mqtt connection closed: its identity changed')
      .map(l => l.reason)
      .sort(),
    ['device deleted', 'device disabled', 'role is now viewer', 'user disabled']
  )
})

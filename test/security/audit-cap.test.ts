import t from 'tap'
import { startApp } from '../helpers/app.js'
import { createUser, login } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { connect } from '../helpers/mqtt.js'

// #13 item 6: a loop of connect + forbidden publish wrote 318 acl_denied rows a second, uncapped, kept 30 days.

const CAP = 5

async function until (cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!await cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
const ATTEMPTS = 30

t.test('acl_denied rows are capped per identity per minute; the rest is summed into one row', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config: { events: { auditRowsPerMinute: CAP } } })
  const rows = async (): Promise<
    Array<{ action: string | null, username: string | null, payload: Record<string, unknown> | null }>
  > => await app.gateway.services.repos.events.recent({ eventType: 'acl_denied' })
  const viewer = await createUser(app, { role: 'viewer' })
  const token = await login(app, viewer.username, viewer.password)
  for (let i = 0; i < ATTEMPTS; i++) {
    const c = await connect(t, app.mqttUrl, { clientId: `loop-${i}`, username: viewer.username, password: token })
    const closed = new Promise(resolve => c.once('close', resolve))
    c.publish('autocore/emergency/reset', '{}', { qos: 1 })
    await closed
  }
  const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text()
  t.match(
    metrics,
    new RegExp(`autocore_acl_denied_total\\{action="publish"\\} ${ATTEMPTS}`),
    'every refusal is counted'
  )

  await clock.tick(60_000)
  await until(async () => (await rows()).some(r => r.action === 'suppressed'))
  t.equal((await rows()).filter(r => r.action !== 'suppressed').length, CAP, `${CAP} rows in the minute`)
  const summary = (await rows()).find(r => r.action === 'suppressed')
  t.match(summary, { username: viewer.username, payload: { identity: viewer.username, suppressed: ATTEMPTS - CAP } })

  // The next minute starts afresh.
  const c = await connect(t, app.mqttUrl, { clientId: 'next-minute', username: viewer.username, password: token })
  const closed = new Promise(resolve => c.once('close', resolve))
  c.publish('autocore/emergency/reset', '{}', { qos: 1 })
  await closed
  await until(async () => (await rows()).length === CAP + 2)
  t.pass('a new row in the next minute')
})

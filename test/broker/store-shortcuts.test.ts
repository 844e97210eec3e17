import t, { type Test } from 'tap'
import { connect, nextMessage } from '../helpers/mqtt.js'
import { startApp, type RunningApp } from '../helpers/app.js'

// Anonymous clients, granted `veh/#` by acl.rules (as in broker.test.ts).
const open = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

/** What a new subscriber to `topic` gets as retained, or undefined (a marker retained after it bounds the wait). */
async function retainedOf (t: Test, app: RunningApp, topic: string): Promise<string | undefined> {
  const marker = `veh/marker/${Math.random().toString(36).slice(2)}`
  const pub = await connect(t, app.mqttUrl)
  await pub.publishAsync(marker, 'm', { qos: 1, retain: true })
  const sub = await connect(t, app.mqttUrl)
  await sub.subscribeAsync([topic, marker], { qos: 1 })
  await nextMessage(sub, marker)
  const got = await nextMessage(sub, topic, 50).catch(() => undefined)
  return got?.payload.toString()
}

t.test('a retained message identical to the stored one is not rewritten, and every change still is', async t => {
  const dataDir = t.testdir()
  const app = await startApp(t, { dataDir, config: open })
  const pub = await connect(t, app.mqttUrl)
  for (const payload of ['A', 'A', 'B', 'A']) await pub.publishAsync('veh/state', payload, { qos: 1, retain: true })
  t.equal(await retainedOf(t, app, 'veh/state'), 'A', 'A, A, B, A: the last one is retained')
  await pub.publishAsync('veh/state', 'A', { qos: 0, retain: true })
  await pub.publishAsync('veh/state', '', { qos: 1, retain: true })
  t.equal(await retainedOf(t, app, 'veh/state'), undefined, 'an empty payload deletes it')
  await pub.publishAsync('veh/state', 'A', { qos: 1, retain: true })
  t.equal(await retainedOf(t, app, 'veh/state'), 'A', 'the same payload after a delete is stored again')
  pub.end(true)
  await app.stop()
  const again = await startApp(t, { dataDir, config: open })
  t.equal(await retainedOf(t, again, 'veh/state'), 'A', 'and it is in the store: it survives a restart')
})

t.test('PUBACKs: a persistent session\'s acknowledged messages are cleared; a clean session gets every QoS 1 ' +
  'message', async t => {
  const app = await startApp(t, { config: open })
  const persistent = await connect(t, app.mqttUrl, { clientId: 'persistent-acker', clean: false })
  await persistent.subscribeAsync('veh/q', { qos: 1 })
  persistent.end(true)
  await new Promise(resolve => persistent.once('close', resolve))
  const pub = await connect(t, app.mqttUrl)
  await pub.publishAsync('veh/q', 'queued', { qos: 1 })
  const acked = new Promise(resolve => app.gateway.services.broker.aedes.once('ack', resolve))
  const back = await connect(t, app.mqttUrl, { clientId: 'persistent-acker', clean: false })
  t.equal((await nextMessage(back, 'veh/q')).payload.toString(), 'queued')
  await acked
  back.end(true)
  await new Promise(resolve => back.once('close', resolve))
  const third = await connect(t, app.mqttUrl, { clientId: 'persistent-acker', clean: false })
  t.equal(
    await nextMessage(third, 'veh/q', 200).then(
      () => 'redelivered',
      () => 'not redelivered'
    ),
    'not redelivered',
    'the PUBACK cleared the queued message'
  )

  const clean = await connect(t, app.mqttUrl, { clientId: 'clean-acker' })
  await clean.subscribeAsync('veh/c', { qos: 1 })
  for (let i = 0; i < 20; i++) await pub.publishAsync('veh/c', String(i), { qos: 1 })
  const got: string[] = []
  for (let i = 0; i < 20; i++) got.push((await nextMessage(clean, 'veh/c')).payload.toString())
  t.same(got, Array.from({ length: 20 }, (_, i) => String(i)), 'every message once, in order')
})

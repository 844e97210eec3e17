import mqtt from 'mqtt'
import t from 'tap'
import { brokerIdAfter } from '../../src/broker/broker.js'
import { startApp, type RunningApp } from '../helpers/app.js'

// [MQTT-4.6.0-6] across restarts: an offline session's queue is kept in `brokerId:brokerCounter` order, and the
// counter starts again with every process; with a random broker id per start, what was queued before a restart
// and after it came back in the order of two random ids (1 chance in 24 to be right over four runs).
const config = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

t.test('a queue filled over four gateway runs comes back in publish order', async t => {
  const dataDir = t.testdir()
  let app: RunningApp = await startApp(t, { dataDir, config })
  const sub = await mqtt.connectAsync(app.mqttUrl, { clientId: 'restart-order', clean: false })
  await sub.subscribeAsync('veh/queued', { qos: 1 })
  await sub.endAsync()
  const sent: string[] = []
  for (const run of ['a', 'b', 'c', 'd']) {
    if (run !== 'a') app = await startApp(t, { dataDir, config })
    const pub = await mqtt.connectAsync(app.mqttUrl, { clientId: `restart-order-pub-${run}` })
    for (let i = 0; i < 3; i++) {
      await pub.publishAsync('veh/queued', `${run}${i}`, { qos: 1 })
      sent.push(`${run}${i}`)
    }
    await pub.endAsync()
    if (run !== 'd') await app.stop()
  }
  const got: string[] = []
  const back = await mqtt.connectAsync(app.mqttUrl, { clientId: 'restart-order', clean: false })
  t.teardown(() => back.end(true))
  await new Promise<void>(resolve => {
    back.on('message', (_topic, payload) => {
      got.push(payload.toString())
      if (got.length === sent.length) resolve()
    })
  })
  t.same(got, sent, 'queued before and after each restart, in publish order')
})

t.test('the broker id sorts after every id in the queues, even with the clock behind', async t => {
  const { ClassicLevel } = await import('classic-level')
  const level = new ClassicLevel<string, unknown>(t.testdir())
  t.teardown(() => level.close())
  t.match(await brokerIdAfter(level, 1_700_000_000_000), /^0001700000000000-[0-9a-f-]{36}$/, 'empty store: the clock')
  await level.put('outgoing:dev-1:0001800000000000-x:0000000000000007', '{}')
  await level.put('outgoing-id:dev-1:0000000000000001', '{}')
  t.match(await brokerIdAfter(level, 1_700_000_000_000), /^0001800000000001-/, 'clock behind: one above the store')
  t.match(await brokerIdAfter(level, 1_900_000_000_000), /^0001900000000000-/, 'clock ahead: the clock')
})

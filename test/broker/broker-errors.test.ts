import t from 'tap'
import { startApp } from '../helpers/app.js'
import { connect, nextMessage, waitFor } from '../helpers/mqtt.js'
import { scrape } from '../helpers/prometheus.js'

// #13 item 11: Aedes emits 'error' on the broker itself when its persistence fails (aedes.js DoEnqueues) or a will
// cannot be handled; with no listener that event throws and takes the process down.

interface Store { subscriptionsByTopic: (topic: string) => Promise<unknown> }

t.test('a persistence failure while routing a publish is logged and counted; the broker keeps serving', async t => {
  const a = await startApp(t, {
    config: { mqtt: { allowAnonymous: true }, acl: { rules: [{ effect: 'allow', action: 'both', topic: 'x/#' }] } }
  })
  const sub = await connect(t, a.mqttUrl, { clientId: 'sub' })
  await sub.subscribeAsync('x/#', { qos: 0 })
  const pub = await connect(t, a.mqttUrl, { clientId: 'pub' })

  // The level store fails for one lookup, as a full or failing disk would.
  const store = (a.gateway.services.broker.aedes as unknown as { persistence: Store }).persistence
  const lookup = store.subscriptionsByTopic.bind(store)
  let failures = 1
  store.subscriptionsByTopic = async topic => {
    if (topic === 'x/fail' && failures-- > 0) throw new Error('disk gone')
    return await lookup(topic)
  }
  // QoS 1: Aedes looks up the offline sessions to queue it for. Its PUBACK never comes (Aedes drops the publish).
  pub.publish('x/fail', 'lost', { qos: 1 })
  await waitFor(() => a.logs.some(l => l.msg === 'mqtt broker error'))
  t.match(a.logs.find(l => l.msg === 'mqtt broker error'), { level: 50, err: { message: 'disk gone' } })
  t.equal((await scrape(a.httpUrl)).value('autocore_broker_errors_total'), 1)

  const next = nextMessage(sub, 'x/ok')
  await pub.publishAsync('x/ok', 'delivered', { qos: 0 })
  t.equal((await next).payload.toString(), 'delivered', 'the broker still routes')
  t.equal((await fetch(`${a.httpUrl}/health`)).status, 200)
})

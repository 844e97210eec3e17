import t from 'tap'
import { connect, collect, nextMessage, subackCodes, waitFor } from '../helpers/mqtt.js'
import { startApp } from '../helpers/app.js'
import { userClient } from '../helpers/devices.js'

const open = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

t.test('publish steps: drop acks and delivers nothing, deny closes, async delays the PUBACK', async t => {
  const app = await startApp(t, { config: open })
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  let slowSeen = false
  app.gateway.services.hooks.useInbound({
    handled: () => false,
    stepsOf: () => [({ packet }) => {
      if (packet.topic === 'veh/drop') return { drop: 'bad payload' }
      if (packet.topic === 'veh/deny') return { deny: 'not yours' }
      if (packet.topic === 'veh/slow') return gate.then(() => { slowSeen = true; return 'deliver' as const })
      return 'deliver'
    }]
  })
  const { client: sub } = await userClient(t, app, 'admin')
  await sub.subscribeAsync('#', { qos: 1 })
  const seen = collect(sub)
  const pub = await connect(t, app.mqttUrl)

  await pub.publishAsync('veh/drop', 'x', { qos: 1, retain: true })
  t.pass('a dropped QoS 1 publish is acknowledged')

  let acked = false
  const slow = pub.publishAsync('veh/slow', 'y', { qos: 1 }).then(() => { acked = true })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(acked, false, 'no PUBACK while the step has not answered')
  release()
  await slow
  t.ok(slowSeen && acked)
  await nextMessage(sub, 'veh/slow')

  const closed = new Promise(resolve => pub.once('close', resolve))
  pub.publish('veh/deny', 'z', { qos: 1 })
  await closed
  t.pass('a denied publish closes the connection')

  await pub.reconnect()
  await waitFor(() => seen.some(m => m.topic === 'veh/slow'))
  t.notOk(
    seen.some(m => m.topic === 'veh/drop' || m.topic === 'veh/deny'),
    'neither dropped nor denied reached a subscriber'
  )
  const late = await connect(t, app.mqttUrl)
  await late.subscribeAsync('veh/#', { qos: 1 })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.same(collect(late), [], 'the dropped retained message was not retained')
})

t.test('$SYS and $autocore are not for clients', async t => {
  const app = await startApp(t, { config: open })
  const c = await connect(t, app.mqttUrl)
  t.same(await subackCodes(c, '$autocore/#'), [128], 'SUBACK 0x80')
  const closed = new Promise(resolve => c.once('close', resolve))
  c.publish('$SYS/fake', 'x', { qos: 1 })
  await closed
  t.pass('publishing to $SYS closes the connection')
})

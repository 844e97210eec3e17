import mqtt from 'mqtt'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { connectPacket, parsePublish, publishPacket, rawConnection, readPacket } from '../helpers/raw-mqtt.js'

// [MQTT-4.6.0-6] for an offline session: the messages queued for it come back in the order each publisher sent
// them. The session store orders a queue by the broker's message counter; a QoS 2 PUBLISH reaches broker.publish
// only after its own store write, and those of one read chunk end in any order (libuv's thread pool), so the
// counter was handed out in that order (the delivery property test's "2 after 3 from publisher 0 on a/x").
const N = 200
const config = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

for (const retain of [false, true]) {
  t.test(`queued QoS 2 messages come back in publish order (retain ${String(retain)})`, async t => {
    const app = await startApp(t, { config })
    const id = `offline-order-${String(retain)}`
    const sub = await mqtt.connectAsync(app.mqttUrl, { clientId: id, clean: false })
    await sub.subscribeAsync('veh/queued', { qos: 2 })
    await sub.endAsync()

    // Every PUBLISH in one write: one read chunk for the broker.
    const pub = await rawConnection(app.gateway.mqttPort)
    t.teardown(() => pub.close())
    pub.send(connectPacket({ clientId: `${id}-pub`, clean: true }))
    t.equal((await readPacket(pub))[3], 0, 'CONNACK accepted')
    pub.send(Buffer.concat(Array.from({ length: N }, (_, i) =>
      publishPacket({ topic: 'veh/queued', payload: String(i), qos: 2, retain, id: i + 1 }))))
    for (let i = 0; i < N; i++) await readPacket(pub) // PUBRECs

    const back = await rawConnection(app.gateway.mqttPort)
    t.teardown(() => back.close())
    back.send(connectPacket({ clientId: id, clean: false }))
    t.equal((await readPacket(back))[3], 0, 'CONNACK accepted')
    const got: string[] = []
    while (got.length < N) {
      const p = await readPacket(back)
      if (p[0] >> 4 === 3) got.push(parsePublish(p).payload)
    }
    t.same(got, Array.from({ length: N }, (_, i) => String(i)), 'the queue in publish order')
    sub.end(true)
  })
}

import mqtt from 'mqtt'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { connectPacket, packet, parsePublish, rawConnection, readPacket, subscribePacket } from '../helpers/raw-mqtt.js'

// [MQTT-4.6.0-4]: the server sends PUBREL packets in the order the PUBRECs came. A subscriber's QoS 2 messages are
// released to its application on PUBREL (MQTT.js emits 'message' then), so a reordered PUBREL reorders its
// messages. Aedes handles a whole socket read chunk concurrently and each PUBREC of a persistent session waits for
// a store update (level, on libuv's thread pool): without the turn in lib/handlers/pubrec.js they overtook each
// other (the delivery property test's "5 after 7 from publisher 0").
const N = 300
const config = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff])

for (const clean of [false, true]) {
  t.test(`PUBRELs in PUBREC order (${clean ? 'clean' : 'persistent'} session)`, async t => {
    const app = await startApp(t, { config })
    const sub = await rawConnection(app.gateway.mqttPort)
    t.teardown(() => sub.close())
    sub.send(connectPacket({ clientId: `order-${String(clean)}`, clean }))
    t.equal((await readPacket(sub))[3], 0, 'CONNACK accepted')
    sub.send(subscribePacket(1, [['veh/order', 2]]))
    t.same([...(await readPacket(sub)).subarray(4)], [2], 'SUBACK grants QoS 2')

    const pub = await mqtt.connectAsync(app.mqttUrl, { clientId: `order-pub-${String(clean)}` })
    t.teardown(() => pub.end(true))
    const sends = Array.from({ length: N }, async (_, i) => await pub.publishAsync('veh/order', String(i), { qos: 2 }))
    await Promise.all(sends)

    const ids: number[] = []
    const payloads: string[] = []
    for (let i = 0; i < N; i++) {
      const p = parsePublish(await readPacket(sub))
      payloads.push(p.payload)
      ids.push(p.id as number)
    }
    t.same(payloads, Array.from({ length: N }, (_, i) => String(i)), 'PUBLISHes in publish order')
    // Every PUBREC in one write: one read chunk for the broker.
    sub.send(Buffer.concat(ids.map(id => packet(0x50, u16(id)))))
    const released: number[] = []
    const kinds = new Set<number>()
    for (let i = 0; i < N; i++) {
      const p = await readPacket(sub)
      kinds.add(p[0])
      released.push(p.readUInt16BE(2))
    }
    t.same([...kinds], [0x62], 'only PUBRELs')
    t.same(released, ids, 'PUBREL order is PUBREC order')
    sub.send(Buffer.concat(ids.map(id => packet(0x70, u16(id)))))
  })
}

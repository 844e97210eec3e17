import t, { type Test } from 'tap'
import { startApp } from '../helpers/app.js'
import { startMosquitto } from '../helpers/mosquitto.js'
import {
  connectPacket, parsePublish, publishPacket, rawConnection, readPacket, subscribePacket, type RawConnection
} from '../helpers/raw-mqtt.js'

// MQTT 3.1.1 clause by clause over a raw socket, asserting the bytes the standard asks for. Every check runs
// against the gateway and against Debian's Mosquitto: a check Mosquitto fails is a bug in the check.
const open = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}

const CONNACK_ACCEPTED = '20020000'
const CONNACK_SESSION_PRESENT = '20020100'
const DISCONNECT = [0xe0, 0x00]

type Target = (t: Test) => Promise<number>
const targets: Array<[string, Target]> = [
  ['gateway', async t => (await startApp(t, { config: open })).gateway.mqttPort],
  ['mosquitto', startMosquitto]
]

async function connected (
  t: Test,
  port: number,
  clientId: string,
  clean: boolean,
  expect = CONNACK_ACCEPTED
): Promise<RawConnection> {
  const conn = await rawConnection(port)
  t.teardown(() => conn.close())
  conn.send(connectPacket({ clientId, clean }))
  t.equal((await conn.read(4)).toString('hex'), expect, `${clientId} clean=${Number(clean)}: CONNACK ${expect}`)
  return conn
}

async function disconnect (conn: RawConnection): Promise<void> {
  conn.send(DISCONNECT)
  await conn.untilClosed()
}

for (const [name, start] of targets) {
  t.test(name, async t => {
    const port = await start(t)

    t.test('[MQTT-3.2.2-2] a persistent session with no subscription is present when the client comes ' +
      'back', async t => {
      await disconnect(await connected(t, port, 'veh-sp', false))
      await disconnect(await connected(t, port, 'veh-sp', false, CONNACK_SESSION_PRESENT))
      // [MQTT-3.2.2-1] a clean session says 0 and discards the session: the next persistent one starts afresh.
      await disconnect(await connected(t, port, 'veh-sp', true))
      await disconnect(await connected(t, port, 'veh-sp', false))
    })

    t.test('[MQTT-3.1.2-2] an unsupported protocol level is answered CONNACK 0x01, then the connection is ' +
      'closed', async t => {
      for (const level of [6, 2]) {
        const conn = await rawConnection(port)
        t.teardown(() => conn.close())
        conn.send(connectPacket({ clientId: 'veh-level', clean: true, level }))
        t.equal((await conn.untilClosed()).toString('hex'), '20020001', `level ${level}`)
      }
    })

    t.test('[MQTT-3.10.3-2] an UNSUBSCRIBE without a topic filter closes the connection, unanswered', async t => {
      const conn = await connected(t, port, 'veh-unsub', true)
      conn.send([0xa2, 0x02, 0x00, 0x01])
      t.equal((await conn.untilClosed()).toString('hex'), '')
    })

    t.test('[MQTT-3.8.3-3] a SUBSCRIBE without a topic filter closes the connection, unanswered', async t => {
      const conn = await connected(t, port, 'veh-sub', true)
      conn.send([0x82, 0x02, 0x00, 0x01])
      t.equal((await conn.untilClosed()).toString('hex'), '')
    })

    t.test('[MQTT-3.3.5-1] overlapping subscriptions: one copy, at the highest QoS they grant', async t => {
      const cases: Array<Array<[string, number]>> = [[['veh/o/#', 0], ['veh/o/x', 1]], [['veh/o/x', 1], ['veh/o/#', 0]]]
      // Debian's Mosquitto 2.0.11 delivers this one at the first matching subscription's QoS, 0: the same fault,
      // fixed in later Mosquitto (eclipse-mosquitto/mosquitto#3319), so it is no reference here.
      if (name === 'gateway') cases.push([['veh/o/+', 0], ['veh/#', 1]])
      for (const filters of cases) {
        const sub = await connected(t, port, 'veh-o-sub', true)
        sub.send(subscribePacket(1, filters))
        t.equal((await readPacket(sub)).toString('hex'), `90040001${filters.map(f => `0${f[1]}`).join('')}`, 'SUBACK')
        const pub = await connected(t, port, 'veh-o-pub', true)
        pub.send(publishPacket({ topic: 'veh/o/x', payload: 'once', qos: 1, id: 7 }))
        t.equal((await readPacket(pub)).toString('hex'), '40020007', 'PUBACK')
        // A QoS 0 marker after it: whatever arrives before the marker is every copy of the first message.
        pub.send(publishPacket({ topic: 'veh/o/end', payload: 'end', qos: 0 }))
        const got = [parsePublish(await readPacket(sub))]
        while (got[got.length - 1].payload !== 'end') got.push(parsePublish(await readPacket(sub)))
        const copies = got.slice(0, -1)
        t.ok(copies.some(p => p.qos === 1), `${JSON.stringify(filters)}: a copy at QoS 1`)
        t.same(copies.map(p => [p.topic, p.payload]), copies.map(() => ['veh/o/x', 'once']))
        // The standard allows one further copy per further matching subscription, at its QoS (Mosquitto sends
        // them); the gateway sends the one.
        t.ok(copies.length <= filters.length, 'at most one copy per subscription')
        if (name === 'gateway') t.equal(copies.length, 1, 'one copy')
        await disconnect(sub)
        await disconnect(pub)
      }
    })

    t.test('[MQTT-3.8.4-6] a wildcard subscription gets the lesser of the message\'s QoS and the QoS it was ' +
      'granted', async t => {
      const sub = await connected(t, port, 'veh-w-sub', true)
      sub.send(subscribePacket(1, [['veh/w/+', 1]]))
      t.equal((await readPacket(sub)).toString('hex'), '9003000101', 'SUBACK')
      const pub = await connected(t, port, 'veh-w-pub', true)
      pub.send(publishPacket({ topic: 'veh/w/x', payload: 'two', qos: 2, id: 9 }))
      t.equal((await readPacket(pub)).toString('hex'), '50020009', 'PUBREC')
      pub.send([0x62, 0x02, 0x00, 0x09])
      t.equal((await readPacket(pub)).toString('hex'), '70020009', 'PUBCOMP')
      const got = parsePublish(await readPacket(sub))
      t.same([got.topic, got.payload, got.qos], ['veh/w/x', 'two', 1])
      await disconnect(sub)
      pub.close()
    })
  })
}

t.test('[MQTT-3.2.2-2] the gateway remembers a session with no subscription across a restart', async t => {
  const dataDir = t.testdir()
  const first = await startApp(t, { dataDir, config: open })
  await disconnect(await connected(t, first.gateway.mqttPort, 'veh-restart', false))
  await first.stop()
  const second = await startApp(t, { dataDir, config: open })
  await disconnect(await connected(t, second.gateway.mqttPort, 'veh-restart', false, CONNACK_SESSION_PRESENT))
})

import t from 'tap'
import { startApp } from '../helpers/app.js'
import { provisionDevice } from '../helpers/devices.js'
import { connectPacket, packet, publishPacket, rawConnection, readPacket } from '../helpers/raw-mqtt.js'

// [MQTT-4.6.0-2], [MQTT-4.6.0-3]: the server acknowledges a client's QoS 1 and QoS 2 PUBLISHes in the order they
// came. A device's QoS 1 telemetry is acknowledged once it is durable (a group commit), its other messages at once:
// in one read chunk, the later message's PUBACK must still wait for the reading's.
t.test('PUBACK and PUBREC in the order the PUBLISHes came', async t => {
  const app = await startApp(t)
  const { uuid, secret } = await provisionDevice(app, { type: 'sensor' })
  const conn = await rawConnection(app.gateway.mqttPort)
  t.teardown(() => conn.close())
  conn.send(connectPacket({ clientId: uuid, clean: true, username: uuid, password: secret }))
  t.equal((await readPacket(conn))[3], 0, 'CONNACK accepted')
  const burst: Buffer[] = []
  let id = 1
  for (let i = 0; i < 50; i++) {
    const reading = `{"t${i}":${i}}`
    burst.push(publishPacket({ topic: `autocore/devices/${uuid}/telemetry`, payload: reading, qos: 1, id: id++ }))
    const report = `{"code":"c${i}","message":"m"}`
    const qos = i % 2 === 0 ? 1 : 2
    burst.push(publishPacket({ topic: `autocore/devices/${uuid}/error`, payload: report, qos, id: id++ }))
  }
  conn.send(Buffer.concat(burst))
  const acked: number[] = []
  const others: string[] = []
  while (acked.length < id - 1) {
    const p = await readPacket(conn)
    if (p[0] === 0x70) continue // PUBCOMP of a PUBREL below
    if (p[0] !== 0x40 && p[0] !== 0x50) others.push(p.toString('hex'))
    acked.push(p.readUInt16BE(2))
    if (p[0] === 0x50) conn.send(packet(0x62, p.subarray(2, 4)))
  }
  t.same(others, [], 'only PUBACKs and PUBRECs (and PUBCOMPs)')
  t.same(acked, Array.from({ length: id - 1 }, (_, i) => i + 1), 'acknowledged in publish order')
})

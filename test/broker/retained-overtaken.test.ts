import net from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { Aedes, type AedesOptions } from 'aedes'
import { ClassicLevel } from 'classic-level'
import aedesPersistenceLevel from 'aedes-persistence-level'
import { startApp } from '../helpers/app.js'
import { collect, connect, waitFor } from '../helpers/mqtt.js'
import { connectPacket, publishPacket, rawConnection, readPacket } from '../helpers/raw-mqtt.js'

// A relay board publishes its retained QoS 1 state and, without waiting, its non-retained response: the board
// protocol. Aedes numbered each message before storing the retained copy, the response overtook it, and a
// subscriber matching both dropped the earlier-numbered state as a duplicate of what it had already received
// (moscajs/aedes#955, #994). A QoS 1 message that matches a subscription must be delivered [MQTT-4.3.2],
// [MQTT-4.6.0-6] in the order sent.
const open = {
  mqtt: { allowAnonymous: true },
  acl: { rules: [{ effect: 'allow' as const, action: 'both' as const, topic: 'veh/#' }] }
}
const ROUNDS = 20

async function boardBurst (t: Test, port: number, mqttUrl: string): Promise<void> {
  const all = await connect(t, mqttUrl, { clientId: 'veh-all' })
  await all.subscribeAsync('veh/#', { qos: 1 })
  const seen = collect(all)

  const board = await rawConnection(port)
  t.teardown(() => board.close())
  board.send(connectPacket({ clientId: 'veh-board', clean: true }))
  t.equal((await board.read(4)).toString('hex'), '20020000')
  const burst: Buffer[] = []
  for (let i = 0; i < ROUNDS; i++) {
    burst.push(
      publishPacket({ topic: 'veh/relays/b1/state', payload: `state-${i}`, qos: 1, retain: true, id: 2 * i + 1 })
    )
    burst.push(publishPacket({ topic: 'veh/devices/b1/response', payload: `response-${i}`, qos: 1, id: 2 * i + 2 }))
  }
  board.send(Buffer.concat(burst))
  for (let i = 0; i < 2 * ROUNDS; i++) t.equal((await readPacket(board))[0], 0x40, 'PUBACK')

  const want = (kind: string): string[] => Array.from({ length: ROUNDS }, (_, i) => `${kind}-${i}`)
  await waitFor(() => seen.length >= 2 * ROUNDS).catch(() => {})
  t.same(
    seen.filter(m => m.topic === 'veh/relays/b1/state').map(m => m.payload),
    want('state'),
    'every state message, in order'
  )
  t.same(
    seen.filter(m => m.topic === 'veh/devices/b1/response').map(m => m.payload),
    want('response'),
    'every response, in order'
  )
  t.equal(seen.length, 2 * ROUNDS, 'each once')
}

t.test('the gateway: a # subscriber gets every retained QoS 1 state message a board follows with its ' +
  'response', async t => {
  const app = await startApp(t, { config: open })
  await boardBurst(t, app.gateway.mqttPort, app.mqttUrl)
})

t.test('bare Aedes with its level store, the way the gateway builds it', async t => {
  const db = new ClassicLevel(join(t.testdir(), 'mqtt'))
  const persistence = aedesPersistenceLevel(db)
  const aedes = await Aedes.createBroker({ persistence: persistence as unknown as AedesOptions['persistence'] })
  const server = net.createServer({ noDelay: true }, aedes.handle)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.close()
    await new Promise<void>(resolve => aedes.close(() => resolve()))
    await persistence.destroy()
  })
  const { port } = server.address() as net.AddressInfo
  await boardBurst(t, port, `mqtt://127.0.0.1:${port}`)
})

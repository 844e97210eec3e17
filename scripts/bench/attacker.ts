/**
 * The failed-login burst of the access benchmark, in a process of its own so that its sockets do not delay the
 * measuring process's own connects: `node attacker.js PORT CLIENT_ID COUNT CONCURRENCY`. Sends COUNT raw MQTT
 * CONNECTs with wrong passwords from 127.0.0.2, CONCURRENCY at a time; prints `go` when it starts and then one
 * JSON line `{ wallMs, codes: { [connackCode]: n } }` (-1: closed without a CONNACK).
 */
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { connectPacket } from './telemetry/mqtt-wire.js'

async function badLogin (port: number, uuid: string): Promise<number> {
  return await new Promise(resolve => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    socket.on('connect', () =>
      socket.write(connectPacket(uuid, { username: uuid, password: 'wrong-' + randomBytes(4).toString('hex') }))
    )
    socket.on('data', d => { socket.destroy(); resolve(d[3]) })
    socket.on('error', () => resolve(-1))
    socket.on('close', () => resolve(-1))
  })
}

const [port, uuid, count, concurrency] = process.argv.slice(2)
const codes: Record<number, number> = {}
const queue = Array.from({ length: Number(count) }, (_, i) => i)
console.log('go')
const t0 = performance.now()
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (queue.pop() !== undefined) {
    const code = await badLogin(Number(port), uuid)
    codes[code] = (codes[code] ?? 0) + 1
  }
}))
console.log(JSON.stringify({ wallMs: performance.now() - t0, codes }))

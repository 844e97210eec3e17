import net from 'node:net'

function str (s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s)
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

/** A hand-built MQTT 3.1.1 CONNECT (MQTT.js refuses to send some of the packets these tests need). */
export function connectPacket (o: { clientId: string, clean: boolean, username?: string, password?: string, keepalive?: number }): Buffer {
  let flags = o.clean ? 0x02 : 0
  if (o.username !== undefined) flags |= 0x80
  if (o.password !== undefined) flags |= 0x40
  const keepalive = Buffer.alloc(2)
  keepalive.writeUInt16BE(o.keepalive ?? 60)
  const body = Buffer.concat([
    str('MQTT'), Buffer.from([4, flags]), keepalive, str(o.clientId),
    ...(o.username !== undefined ? [str(o.username)] : []),
    ...(o.password !== undefined ? [str(o.password)] : [])
  ])
  const len: number[] = []
  let n = body.length
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    len.push(byte)
  } while (n > 0)
  return Buffer.concat([Buffer.from([0x10, ...len]), body])
}

/** Sends one CONNECT from `localAddress` and resolves with the CONNACK return code (-1 when closed without one). */
export async function rawConnack (port: number, packet: Buffer, localAddress = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress })
    let got = Buffer.alloc(0)
    socket.on('connect', () => socket.write(packet))
    socket.on('data', d => {
      got = Buffer.concat([got, d])
      if (got.length >= 4 && got[0] === 0x20) {
        socket.destroy()
        resolve(got[3])
      }
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(-1))
  })
}

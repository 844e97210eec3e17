// A minimal MQTT 3.1.1 load generator on raw sockets: packets are encoded once and written in bulk, so the
// generator (on the same 2 cores) costs far less CPU per message than a full client would.
import net from 'node:net'

/** A remaining length as MQTT's variable byte integer. */
export function varint (n: number): Buffer {
  const out: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return Buffer.from(out)
}

function str (s: string): Buffer {
  const b = Buffer.from(s)
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

/** Username and password of a CONNECT; without them the client connects anonymously (Mosquitto only). */
export interface WireCredentials { username: string, password: string }

export function connectPacket (clientId: string, creds?: WireCredentials): Buffer {
  // Protocol "MQTT" level 4, clean session (+ username and password flags), keepalive 600 s.
  const flags = creds === undefined ? 0x02 : 0xC2
  const login = creds === undefined ? [] : [str(creds.username), str(creds.password)]
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0x02, 0x58]), str(clientId), ...login])
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body])
}

export function subscribePacket (topic: string, id = 1): Buffer {
  const body = Buffer.concat([Buffer.from([id >> 8, id & 0xff]), str(topic), Buffer.from([0])])
  return Buffer.concat([Buffer.from([0x82]), varint(body.length), body])
}

export function publishPacket (topic: string, payload: string, qos: 0 | 1, id = 0): Buffer {
  const parts = [str(topic)]
  if (qos === 1) parts.push(Buffer.from([id >> 8, id & 0xff]))
  parts.push(Buffer.from(payload))
  const body = Buffer.concat(parts)
  return Buffer.concat([Buffer.from([qos === 1 ? 0x32 : 0x30]), varint(body.length), body])
}

/**
 * Splits a byte stream into MQTT packets and reports each packet's type and, for PUBACK, its id (CONNACK: return
 * code).
 */
export class PacketReader {
  private buf: Buffer = Buffer.alloc(0)
  constructor (private readonly onPacket: (type: number, id: number) => void) {}

  push (chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    let off = 0
    for (;;) {
      if (this.buf.length - off < 2) break
      let len = 0
      let mul = 1
      let i = off + 1
      let complete = false
      for (; i < this.buf.length && i < off + 5; i++) {
        len += (this.buf[i] & 0x7f) * mul
        mul *= 128
        if ((this.buf[i] & 0x80) === 0) { complete = true; i++; break }
      }
      if (!complete || this.buf.length < i + len) break
      const type = this.buf[off] >> 4
      // For PUBACK the packet id; for CONNACK the return code (0 = accepted).
      this.onPacket(type, type === 4 ? this.buf.readUInt16BE(i) : type === 2 ? this.buf[i + 1] : 0)
      off = i + len
    }
    this.buf = this.buf.subarray(off)
  }
}

export interface WireClient {
  socket: net.Socket
  reader: PacketReader
  handlers: Array<(type: number, id: number) => void>
}

/** Connects and waits for a CONNACK that accepts (return code 0); rejects on a refusal or a closed socket. */
export async function wireConnect (port: number, clientId: string, creds?: WireCredentials): Promise<WireClient> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true })
  const handlers: WireClient['handlers'] = []
  const reader = new PacketReader((type, id) => { for (const h of handlers) h(type, id) })
  socket.on('data', d => reader.push(d))
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.once('close', () => reject(new Error(`${clientId}: connection closed before CONNACK`)))
    handlers.push((type, code) => {
      if (type !== 2) return
      if (code === 0) resolve()
      else reject(new Error(`${clientId}: CONNACK return code ${code}`))
    })
    socket.write(connectPacket(clientId, creds))
  })
  handlers.length = 0
  return { socket, reader, handlers }
}

/** Writes `packets` as fast as the socket takes them (waiting for 'drain'). */
export async function writeAll (socket: net.Socket, packets: Buffer[], chunk = 256): Promise<void> {
  for (let i = 0; i < packets.length; i += chunk) {
    if (!socket.write(Buffer.concat(packets.slice(i, i + chunk)))) {
      await new Promise(resolve => socket.once('drain', resolve))
    }
  }
}

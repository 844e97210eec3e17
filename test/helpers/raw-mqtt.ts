import net from 'node:net'

function str (s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s)
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

/** A hand-built MQTT 3.1.1 CONNECT (MQTT.js refuses to send some of the packets these tests need). */
export function connectPacket (o: {
  clientId: string
  clean: boolean
  username?: string
  password?: string
  keepalive?: number
  level?: number
}): Buffer {
  let flags = o.clean ? 0x02 : 0
  if (o.username !== undefined) flags |= 0x80
  if (o.password !== undefined) flags |= 0x40
  const keepalive = Buffer.alloc(2)
  keepalive.writeUInt16BE(o.keepalive ?? 60)
  const body = Buffer.concat([
    str('MQTT'), Buffer.from([o.level ?? 4, flags]), keepalive, str(o.clientId),
    ...(o.username !== undefined ? [str(o.username)] : []),
    ...(o.password !== undefined ? [str(o.password)] : [])
  ])
  return packet(0x10, body)
}

/** A remaining length as MQTT's variable byte integer (any length, also past MQTT's largest, for attacks). */
export function varint (n: number): number[] {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return out
}

/** A packet from its first byte and its body (the remaining length is encoded here). */
export function packet (first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, ...varint(body.length)]), body])
}

/** SUBSCRIBE (packet id, then each filter with its requested QoS). */
export function subscribePacket (id: number, filters: Array<[string, number]>): Buffer {
  return packet(0x82, Buffer.concat([u16(id), ...filters.map(([f, q]) => Buffer.concat([str(f), Buffer.from([q])]))]))
}

/** PUBLISH from a client (packet id only for QoS 1 and 2). */
export function publishPacket (o: {
  topic: string
  payload: string
  qos: 0 | 1 | 2
  retain?: boolean
  id?: number
}): Buffer {
  const first = 0x30 | (o.qos << 1) | (o.retain === true ? 1 : 0)
  return packet(first, Buffer.concat([str(o.topic), ...(o.qos > 0 ? [u16(o.id ?? 1)] : []), Buffer.from(o.payload)]))
}

function u16 (n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

/** A PUBLISH as received: QoS, retain, topic, packet id (QoS > 0) and payload. */
export function parsePublish (p: Buffer): {
  qos: number
  retain: boolean
  dup: boolean
  topic: string
  id?: number
  payload: string
} {
  const first = p[0]
  if (first >> 4 !== 3) throw new Error(`not a PUBLISH: ${p.toString('hex')}`)
  let i = 1
  while ((p[i] & 0x80) !== 0) i++
  i++
  const qos = (first >> 1) & 3
  const topicLen = p.readUInt16BE(i)
  const topic = p.subarray(i + 2, i + 2 + topicLen).toString()
  i += 2 + topicLen
  const id = qos > 0 ? p.readUInt16BE(i) : undefined
  if (qos > 0) i += 2
  return { qos, retain: (first & 1) === 1, dup: (first & 8) === 8, topic, id, payload: p.subarray(i).toString() }
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

/** A raw MQTT connection: the bytes a test sends, the bytes the server answers, and whether it closed. */
export interface RawConnection {
  send: (bytes: Buffer | number[]) => void
  /** Resolves with the next `n` bytes received (rejects if the connection closes first or after timeoutMs). */
  read: (n: number, timeoutMs?: number) => Promise<Buffer>
  /** Resolves with every byte received until the server closed the connection (rejects after timeoutMs). */
  untilClosed: (timeoutMs?: number) => Promise<Buffer>
  close: () => void
}

export async function rawConnection (port: number): Promise<RawConnection> {
  const socket = net.connect({ host: '127.0.0.1', port })
  let got = Buffer.alloc(0)
  let closed = false
  const waiters = new Set<() => void>()
  const wake = (): void => { for (const w of [...waiters]) w() }
  socket.on('data', d => { got = Buffer.concat([got, d]); wake() })
  socket.on('error', () => {})
  socket.on('close', () => { closed = true; wake() })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const wait = async <T>(
    ready: () => T | undefined, timeoutMs: number, what: string
  ): Promise<T> => await new Promise((resolve, reject) => {
    const check = (): void => {
      const value = ready()
      if (value !== undefined) {
        done()
        resolve(value)
      } else if (closed) {
        done()
        reject(new Error(`closed before ${what}; got ${got.toString('hex')}`))
      }
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no ${what} within ${timeoutMs}ms; got ${got.toString('hex')}`))
    }, timeoutMs)
    const done = (): void => { clearTimeout(timer); waiters.delete(check) }
    waiters.add(check)
    check()
  })
  return {
    send: bytes => socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)),
    read: async (n, timeoutMs = 5000) => await wait(() => {
      if (got.length < n) return undefined
      const out = got.subarray(0, n)
      got = got.subarray(n)
      return out
    }, timeoutMs, `${n} bytes`),
    untilClosed: async (timeoutMs = 5000) => await new Promise((resolve, reject) => {
      const check = (): void => { if (closed) { done(); resolve(got) } }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`still open after ${timeoutMs}ms; got ${got.toString('hex')}`))
      }, timeoutMs)
      const done = (): void => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      check()
    }),
    close: () => socket.destroy()
  }
}

/** Reads one whole packet (fixed header, remaining length and body) from a raw connection. */
export async function readPacket (conn: RawConnection, timeoutMs = 5000): Promise<Buffer> {
  const head = [await conn.read(1, timeoutMs)]
  let length = 0
  let multiplier = 1
  for (;;) {
    const b = await conn.read(1, timeoutMs)
    head.push(b)
    length += (b[0] & 0x7f) * multiplier
    multiplier *= 128
    if ((b[0] & 0x80) === 0) break
  }
  return Buffer.concat([...head, length > 0 ? await conn.read(length, timeoutMs) : Buffer.alloc(0)])
}

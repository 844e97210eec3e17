import net from 'node:net'
import tls from 'node:tls'
import type http from 'node:http'
import type https from 'node:https'
import type { Duplex, Writable } from 'node:stream'
import type { Aedes, Client } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { GatewayError } from '../errors.js'
import { MAX_FIXED_HEADER, limitPacketSize, type PacketLimits, type TooLarge } from './packet-limit.js'

/** Binds a server, turning EADDRINUSE and friends into one clear line for the operator. */
export async function listen (server: net.Server, what: string, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE'
        ? 'is already in use'
        : err.code === 'EACCES' ? 'needs privileges this process lacks' : `cannot be bound (${err.code ?? err.message})`
      reject(new GatewayError('GW_ERR_LISTEN_FAILED', `${what} port ${port} on ${host} ${why}`))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  return (server.address() as net.AddressInfo).port
}

/** Refuses, at accept, the connections of an address in a failed-login penalty (auth/failure-limiter.ts). */
export interface AddressGate {
  refused: (remoteAddress: string | undefined) => boolean
  /** One connection so refused, after its CONNECT. */
  onRefused: (remoteAddress: string | undefined) => void
  /** How long the refused connection may take to send its CONNECT (mqtt.connectTimeoutMs). */
  timeoutMs: number
}

/** CONNACK, return code 5: not authorized (MQTT 3.1.1 §3.2.2.3). */
const CONNACK_NOT_AUTHORIZED = Buffer.from([0x20, 0x02, 0x00, 0x05])
const CONNECT = 1

/** What every MQTT connection (TCP or WebSocket) is held to before Aedes gets it. */
export interface ConnectionLimits {
  /** Bytes that may wait to be sent to one client before it is disconnected as too slow (mqtt.maxQueuedBytes). */
  maxQueuedBytes: number
  /** A client disconnected for that, with its address and how many bytes were waiting. */
  onTooSlow: (remoteAddress: string | undefined, bytes: number) => void
  /** Packet sizes, checked on each fixed header before anything is buffered (broker/packet-limit.ts). */
  packets?: PacketLimits
}

/**
 * Aedes counts a message as delivered only once every subscriber's socket has taken it (lib/write.js waits for
 * 'drain'), and its emitter stops after `mqtt.concurrency` undelivered messages: one client that stops reading
 * (a phone leaving the Wi-Fi, a hung panel) would hold up every other client, the emergency stop's fan-out
 * included, until drainTimeout. So a connection's writes never report backpressure: what it has not read waits
 * in its own buffer, and once more than maxQueuedBytes wait it is closed. Nothing acknowledged is lost with it:
 * a clean=false session's QoS 1/2 messages stay in the broker's store until its client acknowledges them.
 */
export function neverStall (
  stream: Writable,
  queued: () => number,
  remoteAddress: string | undefined,
  limits: ConnectionLimits
): void {
  const write = stream.write as (this: Writable, chunk: unknown, encoding?: unknown, cb?: unknown) => boolean
  stream.write = function (this: Writable, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    write.call(this, chunk, encoding, cb)
    const bytes = queued()
    if (bytes > limits.maxQueuedBytes && !stream.destroyed) {
      limits.onTooSlow(remoteAddress, bytes)
      stream.destroy(new Error(`client too slow: ${bytes} bytes waiting to be sent`))
    }
    return true
  } as Writable['write']
}

/** Hands a connection to Aedes with its packet sizes held to the limits from its first byte. */
function handleLimited (
  aedes: Aedes,
  stream: Duplex,
  req: http.IncomingMessage | undefined,
  limits: ConnectionLimits,
  transport: TooLarge['transport'],
  remoteAddress: string | undefined
): Client {
  const state: { client?: Client } = {}
  if (limits.packets !== undefined) {
    limitPacketSize(stream, () => state.client?.connected === true, limits.packets, transport, remoteAddress)
  }
  state.client = aedes.handle(stream, req)
  return state.client
}

/**
 * MQTT over TCP. noDelay: without it the first message to a subscriber waits ~40 ms on Nagle/delayed ACK.
 * An address the gate refuses never reaches Aedes (see refuseAtAccept).
 */
export function createTcpServer (aedes: Aedes, limits: ConnectionLimits, gate?: AddressGate): net.Server {
  return net.createServer({ noDelay: true }, socket => handleSocket(aedes, socket, limits, 'tcp', gate))
}

/**
 * MQTT over TLS: the same connection handling as TCP (packet limits, slow clients, the address gate) on the
 * decrypted stream, once the handshake is done. A failed handshake (wrong CA, TLS 1.0) never reaches Aedes.
 */
export function createTlsServer (
  aedes: Aedes,
  limits: ConnectionLimits,
  options: tls.TlsOptions,
  gate?: AddressGate
): tls.Server {
  const server = tls.createServer(options, socket => {
    socket.setNoDelay(true)
    handleSocket(aedes, socket, limits, 'tls', gate)
  })
  // A client that aborts its handshake is no error of the gateway's.
  server.on('tlsClientError', () => {})
  return server
}

function handleSocket (
  aedes: Aedes,
  socket: net.Socket,
  limits: ConnectionLimits,
  transport: TooLarge['transport'],
  gate?: AddressGate
): void {
  if (gate?.refused(socket.remoteAddress) === true) return refuseAtAccept(socket, gate)
  neverStall(socket, () => socket.writableLength, socket.remoteAddress, limits)
  handleLimited(aedes, socket, undefined, limits, transport, socket.remoteAddress)
}

/**
 * A connection from an address in a penalty: its first packet, if a CONNECT, gets CONNACK 5 and the connection is
 * closed [MQTT-3.2.2-5]; anything else (or nothing within the timeout) closes it [MQTT-3.1.0-1]. No client object,
 * no parser, no session store: a guessing burst costs a socket per attempt, and good clients keep the CPU.
 */
function refuseAtAccept (socket: net.Socket, gate: AddressGate): void {
  const remoteAddress = socket.remoteAddress
  socket.on('error', () => {})
  socket.setTimeout(gate.timeoutMs, () => socket.destroy())
  socket.once('data', (chunk: Buffer) => {
    if (chunk[0] >> 4 !== CONNECT) {
      socket.destroy()
      return
    }
    gate.onRefused(remoteAddress)
    socket.end(CONNACK_NOT_AUTHORIZED)
  })
}

/**
 * MQTT over WebSocket on the HTTP server, at one path. ws 8 (not websocket-stream, which pins ws 3: one crafted
 * upgrade request with many headers kills the process). Upgrades on other paths are refused with 404.
 */
export function attachWebSocket (
  server: http.Server | https.Server,
  aedes: Aedes,
  path: string,
  limits: ConnectionLimits
): WebSocketServer {
  // maxPayload: ws buffers a whole message before the stream sees it (its default is 100 MiB); one message larger
  // than the largest packet is refused on its frame header, with close code 1009.
  const maxPayload = limits.packets === undefined ? undefined : limits.packets.maxPacketBytes + MAX_FIXED_HEADER
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    ...(maxPayload === undefined ? {} : { maxPayload })
  })
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws)
    // A reset peer surfaces as a stream error; Aedes cleans up on close, so the error is only swallowed here.
    stream.on('error', () => {})
    // Bytes in the stream's buffer and in ws's (frames not yet written to the socket, and the socket's own).
    neverStall(stream, () => stream.writableLength + ws.bufferedAmount, req.socket.remoteAddress, limits)
    const client = handleLimited(aedes, stream, req, limits, 'ws', req.socket.remoteAddress)
    const packets = limits.packets
    if (packets === undefined) return
    // ws refuses such a message itself (close code 1009); it is counted like a packet cut on its header.
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return
      const stage = client.connected ? 'packet' : 'connect'
      packets.onTooLarge({
        transport: 'ws',
        stage,
        limit: packets.maxPacketBytes,
        remoteAddress: req.socket.remoteAddress
      })
    })
  })
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, ws => wss.emit('connection', ws, req))
  })
  return wss
}

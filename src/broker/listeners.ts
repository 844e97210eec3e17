import net from 'node:net'
import type http from 'node:http'
import type { Duplex } from 'node:stream'
import type { Aedes } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { GatewayError } from '../errors.js'

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

/** MQTT over TCP. noDelay: without it the first message to a subscriber waits ~40 ms on Nagle/delayed ACK. */
export function createTcpServer (aedes: Aedes): net.Server {
  return net.createServer({ noDelay: true }, socket => aedes.handle(socket))
}

/**
 * MQTT over WebSocket on the HTTP server, at one path. ws 8 (not websocket-stream, which pins ws 3: one crafted
 * upgrade request with many headers kills the process). Upgrades on other paths are refused with 404.
 */
export function attachWebSocket (server: http.Server, aedes: Aedes, path: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws)
    // A reset peer surfaces as a stream error; Aedes cleans up on close, so the error is only swallowed here.
    stream.on('error', () => {})
    aedes.handle(stream, req)
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

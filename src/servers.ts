import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import type tls from 'node:tls'
import type { Aedes } from 'aedes'
import type { Config } from './config/types.js'
import type { Logger } from './log.js'
import type { Clock } from './clock.js'
import type { EventBus } from './events.js'
import { attachWebSocket, createTcpServer, createTlsServer, listen } from './broker/listeners.js'
import type { TooLarge } from './broker/packet-limit.js'
import { ServerTls } from './tls/server-tls.js'
import { Throttle } from './services/throttle.js'
import { addressKey, type FailureLimiter } from './auth/failure-limiter.js'
import type { GatewayMetrics } from './services/metrics.js'

/** The TLS listeners' ports, when tls.mqtt / tls.https are enabled. */
export interface TlsPorts { mqtt?: number, https?: number }

export interface ServersDeps {
  config: Config
  log: Logger
  clock: Clock
  bus: EventBus
  aedes: Aedes
  limiter: FailureLimiter
  metrics: GatewayMetrics
  /** The HTTP API (api/app.ts), served on the HTTP listener and, when enabled, the HTTPS one. */
  api: http.RequestListener
}

/**
 * The listeners: MQTT over TCP, HTTP (API, panel, MQTT over WebSocket) and, when enabled, MQTTS and HTTPS with
 * the gateway's certificate (tls/server-tls.ts). Built closed: they open with `listen()`, once every service
 * listens to the bus.
 */
export class Servers {
  private readonly all: net.Server[]
  private readonly sockets: Array<Set<{ terminate: () => void }>>

  private constructor (
    private readonly config: Config,
    private readonly tcp: net.Server,
    private readonly http: http.Server,
    private readonly mqtts: tls.Server | undefined,
    private readonly https: https.Server | undefined,
    sockets: Array<Set<{ terminate: () => void }>>,
    readonly tls: ServerTls | undefined
  ) {
    this.all = [tcp, http, ...(mqtts === undefined ? [] : [mqtts]), ...(https === undefined ? [] : [https])]
    this.sockets = sockets
  }

  static async create (deps: ServersDeps): Promise<Servers> {
    const { config, aedes } = deps
    const brokerLog = deps.log.child({ module: 'broker' })
    const tooLargeLog = new Throttle(deps.clock, 10_000)
    const limits = {
      maxQueuedBytes: config.mqtt.maxQueuedBytes,
      onTooSlow: (remoteAddress: string | undefined, bytes: number) =>
        brokerLog.warn({ remoteAddress, bytes }, 'mqtt client too slow: disconnected'),
      packets: {
        maxConnectBytes: config.mqtt.maxConnectBytes,
        maxPacketBytes: config.mqtt.maxPacketBytes,
        onTooLarge: (e: TooLarge) => {
          deps.metrics.packetsTooLarge.inc({ transport: e.transport, stage: e.stage })
          const suppressed = tooLargeLog.take(`${e.transport}:${e.remoteAddress ?? ''}`)
          if (suppressed !== undefined) brokerLog.warn({ ...e, suppressed }, 'mqtt packet too large: disconnected')
        }
      }
    }
    const gate = {
      refused: (address: string | undefined) => deps.limiter.blocked(addressKey(address)),
      onRefused: (remoteAddress: string | undefined) => deps.bus.emit('mqtt.auth_failed', {
        clientId: '',
        remoteAddress,
        returnCode: 5,
        reason: 'too many failed attempts',
        throttled: true,
        penaltyStarted: false
      }),
      timeoutMs: config.mqtt.connectTimeoutMs
    }
    const tcp = createTcpServer(aedes, limits, gate)
    const server = http.createServer(deps.api)
    const sockets = [attachWebSocket(server, aedes, config.mqtt.wsPath, limits).clients]
    const tlsOn = config.tls.mqtt.enabled || config.tls.https.enabled
    const tlsLog = deps.log.child({ module: 'tls' })
    const serverTls = tlsOn ? await ServerTls.load({ config, clock: deps.clock, log: tlsLog }) : undefined
    let mqtts: tls.Server | undefined
    let httpsServer: https.Server | undefined
    if (serverTls !== undefined && config.tls.mqtt.enabled) {
      mqtts = createTlsServer(aedes, limits, serverTls.options(true), gate)
      serverTls.serve(mqtts, true)
    }
    if (serverTls !== undefined && config.tls.https.enabled) {
      httpsServer = https.createServer(serverTls.options(false), deps.api)
      serverTls.serve(httpsServer, false)
      sockets.push(attachWebSocket(httpsServer, aedes, config.mqtt.wsPath, limits).clients)
    }
    return new Servers(config, tcp, server, mqtts, httpsServer, sockets, serverTls)
  }

  /** Opens every listener; resolves with the ports they got (port 0 in the config: any free one). */
  async listen (): Promise<{ mqttPort: number, httpPort: number, tlsPorts: TlsPorts }> {
    const { config } = this
    const mqttPort = await listen(this.tcp, 'mqtt', config.mqtt.host, config.mqtt.port)
    const tlsPorts: TlsPorts = {}
    if (this.mqtts !== undefined) {
      tlsPorts.mqtt = await listen(this.mqtts, 'mqtts', config.tls.mqtt.host, config.tls.mqtt.port)
    }
    const httpPort = await listen(this.http, 'http', config.http.host, config.http.port)
    if (this.https !== undefined) {
      tlsPorts.https = await listen(this.https, 'https', config.tls.https.host, config.tls.https.port)
    }
    return { mqttPort, httpPort, tlsPorts }
  }

  /** Accepts no new connection; those open stay. */
  stopAccepting (): void {
    for (const s of this.all) if (s.listening) s.close()
  }

  /** Closes every connection (WebSocket clients, HTTP keep-alives) and waits for each listener to close. */
  async close (): Promise<void> {
    const closed = (s: net.Server): Promise<void> => new Promise(resolve => {
      if (!s.listening) return resolve()
      s.close(() => resolve())
    })
    for (const set of this.sockets) for (const ws of set) ws.terminate()
    for (const s of this.all) if (s instanceof http.Server || s instanceof https.Server) s.closeAllConnections()
    await Promise.all(this.all.map(closed))
  }
}

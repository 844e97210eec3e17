import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import type tls from 'node:tls'
import type { Config } from './config/types.js'
import { createLogger, type Logger } from './log.js'
import { createEventBus } from './events.js'
import { systemClock, type Clock } from './clock.js'
import { openDatabase } from './persistence/database.js'
import { createBroker } from './broker/broker.js'
import { createHooks } from './broker/hooks.js'
import { SessionExpiry } from './broker/session-store.js'
import { attachWebSocket, createTcpServer, createTlsServer, listen } from './broker/listeners.js'
import { ServerTls } from './tls/server-tls.js'
import type { TooLarge } from './broker/packet-limit.js'
import { Throttle } from './services/throttle.js'
import { ensureHealthToken } from './auth/health-token.js'
import { Authenticator } from './auth/authenticate.js'
import { FailureLimiter, addressKey } from './auth/failure-limiter.js'
import { ensureJwtSecret } from './auth/jwt.js'
import { ensureInitialAdmin } from './auth/initial-admin.js'
import { createRepositories, type Repositories } from './persistence/repositories/index.js'
import type { Principal } from './auth/principal.js'
import { EventsService } from './services/events.js'
import { AccessAuditService } from './services/access-audit.js'
import { PresenceService } from './services/presence.js'
import { SessionRecheckService } from './services/session-recheck.js'
import { payloadRefusal } from './gateway/payload-guard.js'
import { createApi } from './api/app.js'
import { GatewayStatusService } from './services/gateway-status.js'
import { HeartbeatService } from './services/heartbeat.js'
import { InboundService } from './gateway/inbound.js'
import { TelemetryService, TelemetryStore } from './services/telemetry.js'
import { RetentionService } from './services/retention.js'
import type { AppContext, Service } from './context.js'
import { createControl, type Control } from './services/control.js'
import { forwardClientEvents } from './broker/client-events.js'
import { version } from './version.js'
import { acquireDataLock } from './persistence/data-lock.js'
import { recordRecoveries, recoverStores } from './persistence/recovery.js'
import { BackupService } from './services/backups.js'
import { DeviceConfigService } from './services/device-config.js'
import { ThemeService } from './services/themes.js'
import { createMetrics, MetricsService } from './services/metrics.js'
import { WebhookService } from './services/webhooks.js'

/** The TLS listeners' ports, when tls.mqtt / tls.https are enabled. */
export interface TlsPorts { mqtt?: number, https?: number }

export interface StartOptions {
  config: Config
  log?: Logger
  clock?: Clock
}

type Stopper = { name: string, stop: () => Promise<void> }

/**
 * The composition root. Starts, in order: logger → database (migrations) → broker (TCP + WebSocket) → gateway
 * services → HTTP listener; stops in reverse. A failure half-way stops what had started, then rethrows.
 */
export class Gateway {
  private constructor (
    readonly ctx: AppContext,
    readonly mqttPort: number,
    readonly httpPort: number,
    private readonly stoppers: Stopper[],
    /** Commands, relays, macros, emergency: the services the HTTP API calls too. */
    readonly control: Control,
    readonly tlsPorts: TlsPorts,
    private readonly serverTls: ServerTls | undefined
  ) {}

  /** SIGHUP: re-reads the operator's certificate (or renews the generated one if due); connections stay up. */
  async reloadTls (): Promise<void> {
    await this.serverTls?.reload('SIGHUP')
  }

  static async start (opts: StartOptions): Promise<Gateway> {
    const { config } = opts
    const log = opts.log ?? createLogger(config)
    const clock = opts.clock ?? systemClock
    const stoppers: Stopper[] = []
    try {
      const lock = acquireDataLock(config.dataDir, 'gateway', clock.now())
      stoppers.push({ name: 'data lock', stop: async () => lock.release() })
      const recoveries = await recoverStores(config, log.child({ module: 'recovery' }), clock.now())
      const db = await openDatabase(config, log.child({ module: 'db' }))
      stoppers.push({ name: 'database', stop: () => db.close() })
      await recordRecoveries(db, recoveries, clock.now())
      const telemetry = new TelemetryStore({ config, db, clock, log })
      // Runs after the broker has closed (stoppers run in reverse): keeps readings that arrived until then.
      stoppers.push({ name: 'telemetry buffer', stop: () => telemetry.buffer.drain() })

      const repos = createRepositories(db)
      await ensureInitialAdmin(repos.users, config.dataDir, clock, log.child({ module: 'auth' }))
      const bus = createEventBus()
      const jwtKey = ensureJwtSecret(config.dataDir)
      const limiter = new FailureLimiter(
        {
          maxFailures: config.auth.maxFailedAttempts,
          windowMs: config.auth.failureWindowMs,
          penaltyMs: config.auth.penaltyMs
        },
        clock
      )
      const authenticator = new Authenticator({
        policy: {
          allowAnonymous: config.mqtt.allowAnonymous,
          healthUsername: config.health.username,
          healthToken: ensureHealthToken(config),
          autoRegister: config.devices.autoRegister
        },
        findDevice: uuid => repos.devices.byUuid(uuid),
        findUser: username => repos.users.byUsername(username),
        jwtKey,
        limiter,
        clock
      })
      const auth = { authenticator, limiter, jwtKey }
      const brokerHooks = createHooks({
        authenticate: creds => authenticator.authenticate(creds),
        aclRules: config.acl.rules,
        bus,
        log: log.child({ module: 'auth' }),
        limits: config.mqtt,
        isDeviceId: async clientId => await repos.devices.byUuid(clientId) !== undefined,
        checkWillPayload: (topic, payload) => payloadRefusal(config.mqtt.maxPayloadBytes, topic, payload),
        willOwnerValid: async owner => await ownerStillValid(repos, owner)
      })
      const brokerLog = log.child({ module: 'broker' })
      const broker = await createBroker(config, brokerHooks.hooks, brokerLog, clock, {
        storable: subs => brokerHooks.storable(subs),
        queueable: (clientId, topic) => brokerHooks.queueable(clientId, topic),
        useStore: store => brokerHooks.useStore(store),
        onQueueRefused: () => { brokerHooks.refusals.queued_messages++ }
      })
      stoppers.push({ name: 'broker', stop: () => broker.close() })

      const events = new EventsService({ repos, broker, clock, log, bus })
      const deviceConfig = new DeviceConfigService({ config, log, clock, db, broker, events, bus })
      const themes = new ThemeService({ log, clock, db, broker, events })
      const ctx: AppContext = {
        config,
        log,
        bus,
        clock,
        db,
        broker,
        hooks: brokerHooks,
        startedAt: clock.now(),
        repos,
        events,
        auth,
        telemetry,
        deviceConfig,
        themes
      }
      // This app's Prometheus registry and metrics (services/metrics.ts), fed by the bus once MetricsService starts.
      const metrics = createMetrics(ctx)
      const sessionExpiry = new SessionExpiry({
        aedes: broker.aedes,
        store: broker.store,
        db: broker.level,
        clock,
        log: brokerLog,
        expiryMs: config.mqtt.sessionExpiryMs,
        principalOf: client => brokerHooks.principalOf(client),
        isDeviceId: async clientId => await repos.devices.byUuid(clientId) !== undefined,
        onExpired: clientId => {
          brokerHooks.refusals.session_expired++
          broker.forgetQueue(clientId)
          brokerHooks.forgetSession(clientId)
        }
      })
      await sessionExpiry.start()
      stoppers.push({ name: 'session expiry', stop: () => sessionExpiry.stop() })
      const detachClientEvents = forwardClientEvents(broker.aedes, bus)
      stoppers.push({ name: 'client events', stop: async () => detachClientEvents() })
      const control = createControl(ctx)
      const presence = new PresenceService(ctx)
      // What every client publish goes through, and which handler gets it (gateway/inbound.ts): installed now.
      const inbound = new InboundService(ctx, { counts: metrics.messages, presence, control })

      const tooLargeLog = new Throttle(clock, 10_000)
      const limits = {
        maxQueuedBytes: config.mqtt.maxQueuedBytes,
        onTooSlow: (remoteAddress: string | undefined, bytes: number) =>
          brokerLog.warn({ remoteAddress, bytes }, 'mqtt client too slow: disconnected'),
        packets: {
          maxConnectBytes: config.mqtt.maxConnectBytes,
          maxPacketBytes: config.mqtt.maxPacketBytes,
          onTooLarge: (e: TooLarge) => {
            metrics.packetsTooLarge.inc({ transport: e.transport, stage: e.stage })
            const suppressed = tooLargeLog.take(`${e.transport}:${e.remoteAddress ?? ''}`)
            if (suppressed !== undefined) brokerLog.warn({ ...e, suppressed }, 'mqtt packet too large: disconnected')
          }
        }
      }
      const gate = {
        refused: (address: string | undefined) => limiter.blocked(addressKey(address)),
        onRefused: (remoteAddress: string | undefined) =>
          bus.emit('mqtt.auth_failed', {
            clientId: '',
            remoteAddress,
            returnCode: 5,
            reason: 'too many failed attempts',
            throttled: true,
            penaltyStarted: false
          }),
        timeoutMs: config.mqtt.connectTimeoutMs
      }
      const tcp = createTcpServer(broker.aedes, limits, gate)
      const api = createApi(ctx, control, metrics).callback()
      const server = http.createServer(api)
      const wss = attachWebSocket(server, broker.aedes, config.mqtt.wsPath, limits)
      const servers: net.Server[] = [tcp, server]
      const sockets = [wss.clients]
      const tlsOn = config.tls.mqtt.enabled || config.tls.https.enabled
      const serverTls = tlsOn ? await ServerTls.load({ config, clock, log: log.child({ module: 'tls' }) }) : undefined
      let mqtts: tls.Server | undefined
      let httpsServer: https.Server | undefined
      if (serverTls !== undefined && config.tls.mqtt.enabled) {
        mqtts = createTlsServer(broker.aedes, limits, serverTls.options(true), gate)
        serverTls.serve(mqtts, true)
        servers.push(mqtts)
      }
      if (serverTls !== undefined && config.tls.https.enabled) {
        httpsServer = https.createServer(serverTls.options(false), api)
        serverTls.serve(httpsServer, false)
        sockets.push(attachWebSocket(httpsServer, broker.aedes, config.mqtt.wsPath, limits).clients)
        servers.push(httpsServer)
      }
      // Runs after the broker has closed its clients (stoppers run in reverse).
      stoppers.splice(stoppers.length - 1, 0, { name: 'listeners', stop: () => closeServers(servers, sockets) })

      // Order matters: each service may rely on those before it; they stop in reverse.
      const services: Service[] = [
        new MetricsService(ctx, metrics),
        new AccessAuditService(ctx),
        new GatewayStatusService(ctx),
        new HeartbeatService(ctx),
        presence,
        new SessionRecheckService(ctx),
        ...control.services,
        deviceConfig,
        themes,
        inbound,
        new BackupService(ctx),
        new TelemetryService(ctx),
        new RetentionService(ctx),
        // Last: every service that logs events runs before it, and it stops first, well before the database closes.
        new WebhookService(ctx)
      ]
      for (const service of services) {
        await service.start()
        stoppers.push(service)
      }

      // The listeners open only now, once every service listens to the bus: a device that connects at once after a
      // restart is a device.online that commands, emergency and metrics all see (issue 14).
      const mqttPort = await listen(tcp, 'mqtt', config.mqtt.host, config.mqtt.port)
      const tlsPorts: TlsPorts = {}
      if (mqtts !== undefined) tlsPorts.mqtt = await listen(mqtts, 'mqtts', config.tls.mqtt.host, config.tls.mqtt.port)
      const httpPort = await listen(server, 'http', config.http.host, config.http.port)
      if (httpsServer !== undefined) { tlsPorts.https = await listen(httpsServer, 'https', config.tls.https.host, config.tls.https.port) }
      if (serverTls !== undefined) {
        serverTls.start()
        stoppers.push({ name: 'tls renewal', stop: async () => serverTls.stop() })
      }
      // First thing on stop: accept no new connection, while connected subscribers still get the offline status.
      stoppers.push({ name: 'stop accepting', stop: async () => { for (const s of servers) stopAccepting(s) } })

      ctx.bus.emit('gateway.started', { gatewayId: config.gatewayId, startedAt: ctx.startedAt })
      log.info(
        {
          version,
          mqttPort,
          httpPort,
          mqttsPort: tlsPorts.mqtt,
          httpsPort: tlsPorts.https,
          wsPath: config.mqtt.wsPath,
          dataDir: config.dataDir
        },
        'gateway started'
      )
      return new Gateway(ctx, mqttPort, httpPort, stoppers, control, tlsPorts, serverTls)
    } catch (err) {
      await unwind(stoppers, log)
      throw err
    }
  }

  private stopping?: Promise<void>

  /** Idempotent: a second SIGTERM while stopping waits for the first shutdown. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.ctx.bus.emit('gateway.stopping', { gatewayId: this.ctx.config.gatewayId })
      await unwind(this.stoppers, this.ctx.log)
      this.ctx.log.info('gateway stopped')
    })()
    return await this.stopping
  }
}

async function unwind (stoppers: Stopper[], log: Logger): Promise<void> {
  while (stoppers.length > 0) {
    const part = stoppers.pop() as Stopper
    try {
      await part.stop()
    } catch (err) {
      log.error({ err, part: part.name }, 'stop failed')
    }
  }
}

function stopAccepting (server: net.Server): void {
  if (server.listening) server.close()
}

async function closeServers (servers: net.Server[], sockets: Array<Set<{ terminate: () => void }>>): Promise<void> {
  const closed = (s: net.Server): Promise<void> => new Promise(resolve => {
    if (!s.listening) return resolve()
    s.close(() => resolve())
  })
  for (const set of sockets) for (const ws of set) ws.terminate()
  for (const s of servers) if (s instanceof http.Server || s instanceof https.Server) s.closeAllConnections()
  await Promise.all(servers.map(closed))
}

/** A will's owner as stored with it still holds: the device or user exists, is enabled and (a user) has that role. */
async function ownerStillValid (repos: Repositories, owner: Principal): Promise<boolean> {
  if (owner.kind === 'device') {
    const device = await repos.devices.byUuid(owner.uuid)
    if (owner.pending !== undefined) return device === undefined || (device.enabled && device.status === 'pending')
    return device !== undefined && device.enabled && device.status !== 'pending'
  }
  if (owner.kind === 'user') {
    const user = await repos.users.byUsername(owner.username)
    return user !== undefined && user.enabled && user.role === owner.role
  }
  return true
}

import type { Config } from './config/types.js'
import { createLogger, type Logger } from './log.js'
import { createEventBus } from './events.js'
import { systemClock, type Clock } from './clock.js'
import { openDatabase } from './persistence/database.js'
import { createBroker } from './broker/broker.js'
import { createHooks } from './broker/hooks.js'
import { SessionExpiry } from './broker/session-store.js'
import { ensureHealthToken } from './auth/health-token.js'
import { Authenticator } from './auth/authenticate.js'
import { FailureLimiter } from './auth/failure-limiter.js'
import { ensureJwtSecret } from './auth/jwt.js'
import { ensureInitialAdmin } from './auth/initial-admin.js'
import { createRepositories, type Repositories } from './persistence/repositories/index.js'
import type { Principal } from './auth/principal.js'
import { payloadRefusal } from './gateway/payload-guard.js'
import { createApi } from './api/app.js'
import { InboundService } from './gateway/inbound.js'
import { TelemetryStore } from './services/telemetry.js'
import type { AppContext } from './context.js'
import { createServices, type Services } from './services/index.js'
import { forwardClientEvents } from './broker/client-events.js'
import { version } from './version.js'
import { acquireDataLock } from './persistence/data-lock.js'
import { recordRecoveries, recoverStores } from './persistence/recovery.js'
import { Servers, type TlsPorts } from './servers.js'
import type { ServerTls } from './tls/server-tls.js'

export type { TlsPorts } from './servers.js'

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
    /** The one services bag (services/index.ts): the infrastructure and every service. */
    readonly services: Services,
    readonly mqttPort: number,
    readonly httpPort: number,
    private readonly stoppers: Stopper[],
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
      // Built once: every service gets these (services.repos).
      const repos = createRepositories(db)
      const telemetry = new TelemetryStore({ config, clock, log, repo: repos.telemetry })
      // Runs after the broker has closed (stoppers run in reverse): keeps readings that arrived until then.
      stoppers.push({ name: 'telemetry buffer', stop: () => telemetry.buffer.drain() })

      await ensureInitialAdmin(repos.users, config.dataDir, clock, log.child({ module: 'auth' }))
      const bus = createEventBus()
      const jwtKey = ensureJwtSecret(config.dataDir)
      const { maxFailedAttempts: maxFailures, failureWindowMs: windowMs, penaltyMs } = config.auth
      const limiter = new FailureLimiter({ maxFailures, windowMs, penaltyMs }, clock)
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

      const infra: AppContext = { config, log, bus, clock, db, broker, startedAt: clock.now() }
      // What every client publish goes through, and which handler gets it (gateway/inbound.ts): installed as the
      // bag is built, started in the services' order.
      const { services, startOrder } = createServices(
        { ...infra, repos, hooks: brokerHooks, auth, telemetry },
        s => new InboundService(s, { counts: s.metrics.messages, presence: s.presence, control: s })
      )
      const { metrics } = services
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

      const api = createApi(services).callback()
      const servers = await Servers.create({ config, log, clock, bus, aedes: broker.aedes, limiter, metrics, api })
      // Runs after the broker has closed its clients (stoppers run in reverse).
      stoppers.splice(stoppers.length - 1, 0, { name: 'listeners', stop: () => servers.close() })

      // Order matters: each service may rely on those before it; they stop in reverse.
      for (const service of startOrder) {
        await service.start()
        stoppers.push(service)
      }

      // The listeners open only now, once every service listens to the bus: a device that connects at once after a
      // restart is a device.online that commands, emergency and metrics all see (issue 14).
      const { mqttPort, httpPort, tlsPorts } = await servers.listen()
      const serverTls = servers.tls
      if (serverTls !== undefined) {
        serverTls.start()
        stoppers.push({ name: 'tls renewal', stop: async () => serverTls.stop() })
      }
      // First thing on stop: accept no new connection, while connected subscribers still get the offline status.
      stoppers.push({ name: 'stop accepting', stop: async () => servers.stopAccepting() })

      bus.emit('gateway.started', { gatewayId: config.gatewayId, startedAt: infra.startedAt })
      log.info({
        version,
        mqttPort,
        httpPort,
        mqttsPort: tlsPorts.mqtt,
        httpsPort: tlsPorts.https,
        wsPath: config.mqtt.wsPath,
        dataDir: config.dataDir
      }, 'gateway started')
      return new Gateway(services, mqttPort, httpPort, stoppers, tlsPorts, serverTls)
    } catch (err) {
      await unwind(stoppers, log)
      throw err
    }
  }

  private stopping?: Promise<void>

  /** Idempotent: a second SIGTERM while stopping waits for the first shutdown. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.services.bus.emit('gateway.stopping', { gatewayId: this.services.config.gatewayId })
      await unwind(this.stoppers, this.services.log)
      this.services.log.info('gateway stopped')
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

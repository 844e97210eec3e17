import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import { listen, type EventMap } from '../events.js'
import type { Logger } from '../log.js'
import { MessageCounts } from './message-counts.js'

type Payload<K extends keyof EventMap> = EventMap[K][0]

/** Command latency buckets, seconds: a board on the LAN answers in milliseconds, a retried one in seconds. */
const COMMAND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/**
 * The gateway's own metric names (the README's Monitoring section lists them, test/api/metrics.test.ts checks them).
 */
export const METRIC_NAMES = [
  'autocore_devices_online',
  'autocore_mqtt_clients_connected',
  'autocore_messages_total',
  'autocore_telemetry_rows_written_total',
  'autocore_telemetry_buffer_depth',
  'autocore_command_latency_seconds',
  'autocore_auth_failures_total',
  'autocore_acl_denied_total',
  'autocore_invalid_payloads_total',
  'autocore_http_request_duration_seconds',
  'autocore_emergency_active',
  'autocore_mqtt_packets_too_large_total',
  'autocore_broker_errors_total'
] as const

/**
 * One app's metrics: its own prom-client Registry (never the global one: a test process runs several apps), the
 * per-family message counts of the publish path, and the metric objects the service and the HTTP middleware feed.
 * Gauges that mirror state another part owns (clients, telemetry buffer) are read at scrape time.
 */
export interface GatewayMetrics {
  readonly registry: Registry
  readonly messages: MessageCounts
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>
  readonly commandLatency: Histogram<'outcome'>
  readonly authFailures: Counter<'transport'>
  readonly aclDenied: Counter<'action'>
  readonly invalidPayloads: Counter<'reason'>
  readonly emergencyActive: Gauge
  readonly packetsTooLarge: Counter<'transport' | 'stage'>
  /** Device UUIDs online now, kept by the metrics service from presence's events. */
  readonly online: Set<string>
}

let processRegistry: Registry | undefined

/**
 * prom-client's default metrics (CPU, memory, event loop lag, GC), registered once per process: they describe the
 * process, not one gateway in it, and each registration starts an event-loop monitor that nothing stops.
 */
function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** Builds the registry and every metric; nothing is listened to until MetricsService starts. */
export function createMetrics (ctx: Pick<Services, 'broker' | 'telemetry' | 'hooks'>): GatewayMetrics {
  const registry = new Registry()
  const registers = [registry]
  const shared = processMetrics()
  for (const { name } of shared.getMetricsAsArray()) {
    const metric = shared.getSingleMetric(name)
    if (metric !== undefined) registry.registerMetric(metric)
  }
  const messages = new MessageCounts()
  const online = new Set<string>()
  /* eslint-disable no-new -- registered in `registry`, read through it */
  new Gauge({
    name: 'autocore_devices_online',
    help: 'Devices online now (presence: connected, or heard from within devices.offlineAfterS).',
    registers,
    collect () {
      this.set(online.size)
    }
  })
  new Gauge({
    name: 'autocore_mqtt_clients_connected',
    help: 'MQTT clients connected to the embedded broker (devices, panels, health checks).',
    registers,
    collect () {
      this.set(ctx.broker.aedes.connectedClients)
    }
  })
  new Counter({
    name: 'autocore_messages_total',
    help: 'MQTT publishes by SPEC §3 topic family: in = sent by clients (allowed by the ACL), out = published by the ' +
      'gateway.',
    labelNames: ['family', 'direction'] as const,
    registers,
    collect () {
      this.reset()
      for (const c of messages.all()) {
        if (c.in > 0) this.inc({ family: c.family, direction: 'in' }, c.in)
        if (c.out > 0) this.inc({ family: c.family, direction: 'out' }, c.out)
      }
    }
  })
  new Counter({
    name: 'autocore_mqtt_limit_refusals_total',
    help: 'What the MQTT session limits refused: filters_per_subscribe, subscriptions_per_client (SUBACK 0x80), ' +
      'client_id_length, client_id_owner (CONNACK 2), will (CONNACK 5 or dropped), queued_messages (not queued), ' +
        'session_expired (deleted).',
    labelNames: ['limit'] as const,
    registers,
    collect () {
      this.reset()
      for (const [limit, n] of Object.entries(ctx.hooks.refusals)) this.inc({ limit }, n)
    }
  })
  new Counter({
    name: 'autocore_telemetry_rows_written_total',
    help: 'Telemetry readings committed to telemetry_data.',
    registers,
    collect () {
      this.reset()
      this.inc(ctx.telemetry.buffer.state().written)
    }
  })
  new Counter({
    name: 'autocore_broker_errors_total',
    help: 'Errors the MQTT broker itself reported (will and persistence failures), logged rate-limited.',
    registers,
    collect () {
      this.reset()
      this.inc(ctx.broker.errors())
    }
  })
  new Gauge({
    name: 'autocore_telemetry_buffer_depth',
    help: 'Telemetry readings accepted and not yet committed.',
    registers,
    collect () {
      this.set(ctx.telemetry.buffer.size)
    }
  })
  /* eslint-enable no-new */
  return {
    registry,
    messages,
    online,
    httpDuration: new Histogram({
      name: 'autocore_http_request_duration_seconds',
      help: 'HTTP requests by method, matched route template and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers
    }),
    commandLatency: new Histogram({
      name: 'autocore_command_latency_seconds',
      help: "Commands by final outcome: acked/failed = last send to the device's response; timeout/expired = " +
        'creation to giving up.',
      labelNames: ['outcome'] as const,
      buckets: COMMAND_BUCKETS,
      registers
    }),
    authFailures: new Counter({
      name: 'autocore_auth_failures_total',
      help: 'Refused MQTT CONNECTs and HTTP logins (throttled ones included).',
      labelNames: ['transport'] as const,
      registers
    }),
    aclDenied: new Counter({
      name: 'autocore_acl_denied_total',
      help: 'MQTT publishes (connection closed) and subscriptions (SUBACK 0x80) refused by the ACL.',
      labelNames: ['action'] as const,
      registers
    }),
    invalidPayloads: new Counter({
      name: 'autocore_invalid_payloads_total',
      help: 'Publishes acknowledged and dropped by the payload guard: too_large, not_json, schema.',
      labelNames: ['reason'] as const,
      registers
    }),
    packetsTooLarge: new Counter({
      name: 'autocore_mqtt_packets_too_large_total',
      help: 'MQTT connections closed for a packet over mqtt.maxConnectBytes (stage connect) or mqtt.maxPacketBytes ' +
        '(stage packet), judged on its fixed header.',
      labelNames: ['transport', 'stage'] as const,
      registers
    }),
    emergencyActive: new Gauge({
      name: 'autocore_emergency_active',
      help: '1 while the emergency stop is active.',
      registers
    })
  }
}

/**
 * Feeds the metrics from the bus (refusals, commands, presence, emergency) and Aedes' 'publish' event (the
 * gateway's own publishes). Starts first among the services, so it hears the emergency state set at start and
 * every presence transition.
 */
export class MetricsService implements Service {
  readonly name = 'metrics'
  private readonly log: Logger
  private unlisten = (): void => {}

  constructor (
    private readonly ctx: Services,
    private readonly metrics: GatewayMetrics
  ) {
    this.log = ctx.log.child({ module: 'metrics' })
  }

  private readonly onAuthFailed = (): void => {
    this.metrics.authFailures.inc({ transport: 'mqtt' })
  }

  private readonly onLoginFailed = (): void => {
    this.metrics.authFailures.inc({ transport: 'http' })
  }

  private readonly onAclDenied = (e: Payload<'mqtt.acl_denied'>): void => {
    this.metrics.aclDenied.inc({ action: e.action })
  }

  private readonly onPayloadInvalid = (e: Payload<'mqtt.payload_invalid'>): void => {
    this.metrics.invalidPayloads.inc({ reason: e.kind })
  }

  private readonly onOnline = (e: Payload<'device.online'>): void => {
    this.metrics.online.add(e.uuid)
  }

  private readonly onOffline = (e: Payload<'device.offline'>): void => {
    this.metrics.online.delete(e.uuid)
  }

  private readonly onEmergency = (e: Payload<'emergency.changed'>): void => {
    this.metrics.emergencyActive.set(e.active ? 1 : 0)
  }

  private readonly onCommand = (e: Payload<'command.finished'>): void => {
    this.metrics.commandLatency.observe({ outcome: e.status }, (e.latencyMs ?? e.elapsedMs) / 1000)
  }

  async start (): Promise<void> {
    // After a restart, presence counts the devices stored as online as online until they time out (no event).
    for (const d of await this.ctx.repos.devices.listByStatus('online')) this.metrics.online.add(d.uuid)
    this.unlisten = listen(this.ctx.bus, {
      'mqtt.auth_failed': this.onAuthFailed,
      'http.login_failed': this.onLoginFailed,
      'mqtt.acl_denied': this.onAclDenied,
      'mqtt.payload_invalid': this.onPayloadInvalid,
      'device.online': this.onOnline,
      'device.offline': this.onOffline,
      'emergency.changed': this.onEmergency,
      'command.finished': this.onCommand
    })
    this.ctx.broker.aedes.on('publish', this.metrics.messages.published)
    this.log.debug({ metrics: this.metrics.registry.getMetricsAsArray().length }, 'metrics registered')
  }

  async stop (): Promise<void> {
    this.unlisten()
    this.ctx.broker.aedes.off('publish', this.metrics.messages.published)
  }
}

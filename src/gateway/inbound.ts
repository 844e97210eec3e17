import type { Client, PublishPacket } from 'aedes'
import type { InboundMessage, InboundPublish, Step } from '../broker/pipeline.js'
import type { Service } from '../context.js'
import type { Services } from '../services/index.js'
import type { Logger } from '../log.js'
import { parseTopic, type TopicFamily } from '../protocol/index.js'
import { checkPayload } from '../protocol/validate.js'
import type { MessageCounts } from '../services/message-counts.js'
import type { PresenceService } from '../services/presence.js'
import { canHandler } from './handlers/can.js'
import { responseHandler } from './handlers/commands.js'
import { configRequestHandler } from './handlers/config.js'
import { deviceErrorHandler } from './handlers/device-error.js'
import { deviceHandlers } from './handlers/devices.js'
import { macroRunHandler } from './handlers/macros.js'
import { relaySetHandler, relayStateHandler } from './handlers/relays.js'
import { telemetryIngest } from './handlers/telemetry.js'
import { payloadGuard } from './payload-guard.js'

/**
 * What the gateway does with a message of one family: `beforeAck` runs before Aedes acknowledges it (it may hold
 * the PUBACK, drop the message or close the connection); `handle` runs after delivery, off the publish path.
 */
export interface Inbound<F extends TopicFamily> {
  beforeAck?: Step<InboundMessage<F>>
  handle?: (msg: InboundMessage<F>) => void | Promise<void>
}
export type InboundTable = { readonly [F in TopicFamily]?: Inbound<F> }

/** The parts the table calls into. */
export interface InboundParts {
  counts: MessageCounts
  presence: PresenceService
  control: Pick<Services, 'commands' | 'relays' | 'macros' | 'emergency' | 'journal'>
}

/**
 * Every allowed client publish (and will) goes through these steps first, in this order, before its family's:
 * 1. the message count (autocore_messages_total): it never decides, so it also counts what a later step drops;
 * 2. the payload guard (SPEC §3 size, JSON, schema): a refusal is acknowledged and goes nowhere; the parsed, valid
 *    body is kept for every step and handler after it;
 * 3. presence: a message from an approved device shows it is alive.
 */
function globalSteps (ctx: Services, parts: InboundParts): Step[] {
  return [parts.counts.inbound, payloadGuard(ctx), parts.presence.touchStep]
}

/**
 * The one table from topic family (protocol/families.ts) to what the gateway does with it. Families not listed
 * are only checked (ACL, global steps) and delivered. Each family's beforeAck runs after the global steps: the
 * emergency stop's is the first step that acts on anything.
 */
function table (ctx: Services, { control }: InboundParts): InboundTable {
  const devices = deviceHandlers(ctx)
  const ingest = telemetryIngest(ctx.telemetry, () => ctx.clock.now(), ctx.config.telemetry.maxPayloadKeys)
  return {
    emergencyStop: { beforeAck: control.emergency.beforeAck },
    emergencyReset: { beforeAck: control.emergency.beforeAck },
    deviceAnnounce: { beforeAck: devices.registerPending, handle: devices.announce },
    deviceStatus: { handle: devices.status },
    deviceTelemetry: { beforeAck: ingest },
    telemetryData: { beforeAck: ingest },
    deviceError: { handle: deviceErrorHandler(ctx) },
    deviceConfigRequest: { handle: configRequestHandler(ctx) },
    deviceResponse: { handle: responseHandler(control.commands) },
    relayState: { handle: relayStateHandler(control.relays) },
    canData: { handle: canHandler(ctx) },
    relaySet: { handle: relaySetHandler(ctx, control.relays) },
    macroRun: { handle: macroRunHandler(ctx, control.macros) }
  }
}

type AnyInbound = Inbound<TopicFamily> & { handle?: (msg: InboundPublish) => void | Promise<void> }

/**
 * Runs the table: installs the steps in the broker's hooks at once (before any client can connect) and, from
 * start() to stop(), dispatches every delivered message of a handled family to its handler. Client publishes come
 * with what their steps worked out (principal, parsed topic, validated body); the gateway's own publishes on a
 * handled family (a macro's mqtt_publish) are parsed and validated here, and handled as the gateway's.
 */
export class InboundService implements Service {
  readonly name = 'inbound'
  private readonly log: Logger
  private readonly entries: ReadonlyMap<TopicFamily, AnyInbound>
  private readonly onPublish = (packet: PublishPacket, client: Client | null): void => this.dispatch(packet, client)

  constructor (private readonly ctx: Services, parts: InboundParts, entries: InboundTable = table(ctx, parts)) {
    this.log = ctx.log.child({ module: 'inbound' })
    this.entries = new Map(Object.entries(entries) as Array<[TopicFamily, AnyInbound]>)
    const globals = globalSteps(ctx, parts)
    const steps = new Map<TopicFamily | undefined, readonly Step[]>([[undefined, globals]])
    for (const [family, entry] of this.entries) {
      steps.set(family, entry.beforeAck === undefined ? globals : [...globals, entry.beforeAck as Step])
    }
    const handled = new Set([...this.entries].filter(([, entry]) => entry.handle !== undefined).map(([f]) => f))
    ctx.hooks.useInbound({ stepsOf: family => steps.get(family) ?? globals, handled: family => handled.has(family) })
  }

  async start (): Promise<void> {
    this.ctx.broker.aedes.on('publish', this.onPublish)
  }

  async stop (): Promise<void> {
    this.ctx.broker.aedes.off('publish', this.onPublish)
  }

  private dispatch (packet: PublishPacket, client: Client | null): void {
    const msg = this.ctx.hooks.deliveredPublish(packet) ?? (client === null ? this.ownPublish(packet) : undefined)
    const handle = msg?.family === undefined ? undefined : this.entries.get(msg.family)?.handle
    if (msg === undefined || handle === undefined) return
    try {
      const done = handle(msg)
      if (done instanceof Promise) done.catch(err => this.failed(err, msg))
    } catch (err) {
      this.failed(err, msg)
    }
  }

  /** A publish of the gateway's own on a handled family, validated like a client's; undefined otherwise. */
  private ownPublish (packet: PublishPacket): InboundPublish | undefined {
    const parsed = parseTopic(packet.topic)
    if (parsed === undefined || this.entries.get(parsed.family)?.handle === undefined) return undefined
    const msg: InboundPublish = { principal: undefined, client: undefined, packet, ...parsed, body: undefined }
    const reason = checkPayload(parsed.family, packet.payload as Buffer, msg)
    if (reason === undefined) return msg
    this.log.warn({ topic: packet.topic, reason }, 'gateway publish not handled')
    return undefined
  }

  private failed (err: unknown, msg: InboundPublish): void {
    this.log.error({ err, topic: msg.packet.topic, clientId: msg.client?.id }, 'handler failed')
  }
}

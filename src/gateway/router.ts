import type { AedesPublishPacket } from 'aedes'
import type { AppContext, Service } from '../context.js'
import { PREFIX } from './topics.js'

/** One message from the broker as a handler sees it. */
export interface InboundMessage {
  topic: string
  /** Named segments of the route's pattern (`autocore/devices/:uuid/status` → `{ uuid }`). */
  params: Record<string, string>
  payload: Buffer
  qos: number
  retain: boolean
  /** The publishing client's id; undefined for the gateway's own publishes. */
  clientId?: string
}

export type Handler = (msg: InboundMessage) => void | Promise<void>

export interface Route {
  /** MQTT-like pattern with named single-level parameters: `autocore/devices/:uuid/announce`. */
  pattern: string
  handler: Handler
}

interface CompiledRoute { segments: string[], handler: Handler }

/** Where a topic goes: its route's handler and the values of the pattern's named levels (shared, so frozen). */
interface Resolved { handler: Handler, params: Readonly<Record<string, string>> }

// Topics remembered with their route: devices publish the same few topics over and over, so a message costs one
// map lookup instead of a split and a pattern match per route. Bounded: past this many topics it starts afresh.
const MAX_RESOLVED = 10_000

function compile (route: Route): CompiledRoute {
  return { segments: route.pattern.split('/'), handler: route.handler }
}

function match (segments: string[], levels: string[]): Record<string, string> | undefined {
  if (segments.length !== levels.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]
    if (s.startsWith(':')) {
      if (levels[i] === '') return undefined
      params[s.slice(1)] = levels[i]
    } else if (s !== levels[i]) {
      return undefined
    }
  }
  return params
}

/**
 * The one table from topic pattern to handler. The gateway holds a single in-process subscription to
 * `autocore/#` and dispatches every message here; handlers never subscribe or match topics themselves.
 * Handlers run off the broker's delivery path: the broker is released at once and handler errors are logged.
 */
export class GatewayRouter implements Service {
  readonly name = 'router'
  private readonly table: CompiledRoute[]
  /** topic → its route, or null for a topic no route handles (most messages: telemetry is handled in the pipeline). */
  private readonly resolved = new Map<string, Resolved | null>()
  private readonly deliver = (packet: AedesPublishPacket, cb: () => void): void => {
    cb()
    this.dispatch(packet)
  }

  constructor (private readonly ctx: AppContext, routes: Route[]) {
    this.table = routes.map(compile)
  }

  dispatch (packet: Pick<AedesPublishPacket, 'topic' | 'payload' | 'qos' | 'retain'> & { clientId?: string }): void {
    const route = this.resolve(packet.topic)
    if (route === null) return
    const msg: InboundMessage = {
      topic: packet.topic,
      params: route.params,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
      clientId: packet.clientId
    }
    try {
      const done = route.handler(msg)
      if (done instanceof Promise) done.catch(err => this.failed(err, msg))
    } catch (err) {
      this.failed(err, msg)
    }
  }

  /** The first route whose pattern matches the topic, or null; worked out once per distinct topic. */
  private resolve (topic: string): Resolved | null {
    const known = this.resolved.get(topic)
    if (known !== undefined) return known
    let found: Resolved | null = null
    const levels = topic.split('/')
    for (const route of this.table) {
      const params = match(route.segments, levels)
      if (params === undefined) continue
      found = { handler: route.handler, params: Object.freeze(params) }
      break
    }
    if (this.resolved.size >= MAX_RESOLVED) this.resolved.clear()
    this.resolved.set(topic, found)
    return found
  }

  private failed (err: unknown, msg: InboundMessage): void {
    this.ctx.log.error({ module: 'router', err, topic: msg.topic, clientId: msg.clientId }, 'handler failed')
  }

  async start (): Promise<void> {
    await new Promise<void>(resolve => this.ctx.broker.aedes.subscribe(`${PREFIX}/#`, this.deliver, resolve))
  }

  async stop (): Promise<void> {
    await new Promise<void>(resolve => this.ctx.broker.aedes.unsubscribe(`${PREFIX}/#`, this.deliver, resolve))
  }
}

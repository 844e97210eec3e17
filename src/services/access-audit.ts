import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { EventMap } from '../events.js'
import type { Timer } from '../clock.js'
import type { Logger } from '../log.js'
import { AUDIT_WINDOW_MS, AuditCap } from './audit-cap.js'
import type { EventInput } from './events.js'
import { Throttle } from './throttle.js'

type Payload<K extends keyof EventMap> = EventMap[K][0]

/** Rate limit for log lines and event rows about one client or address. */
const INTERVAL_MS = 10_000

/**
 * Records the broker's refusals (SPEC §3): each refused CONNECT that was actually checked, each ACL violation
 * and invalid payloads become event rows and warn lines, rate-limited per client/address; throttled CONNECTs
 * (during a penalty) are only counted, so a burst costs no disk writes. Rows are capped per identity per minute
 * (events.auditRowsPerMinute); what a minute held back is written at its end as one row per identity and type,
 * with `payload.suppressed`.
 */
export class AccessAuditService implements Service {
  readonly name = 'access-audit'
  private readonly log: Logger
  private readonly throttle: Throttle
  private readonly cap: AuditCap
  private window?: Timer

  constructor (private readonly ctx: Services) {
    this.log = ctx.log.child({ module: 'access' })
    this.throttle = new Throttle(ctx.clock, INTERVAL_MS)
    this.cap = new AuditCap(ctx.config.events.auditRowsPerMinute)
  }

  /** Writes the row unless its identity has had its rows this minute. */
  private record (identity: string, row: EventInput): void {
    if (!this.cap.take(identity, row.type, { target: row.target ?? undefined, username: row.username ?? undefined })) {
      return
    }
    void this.ctx.events.log(row)
  }

  /** One row per identity and type for what the minute held back. */
  private closeWindow (): void {
    for (const h of this.cap.close()) {
      void this.ctx.events.log({
        level: 'warning',
        type: h.type,
        source: 'mqtt',
        action: 'suppressed',
        target: h.target,
        username: h.username,
        payload: { identity: h.identity, suppressed: h.suppressed, windowMs: AUDIT_WINDOW_MS }
      })
    }
  }

  private readonly onAuthFailed = (e: Payload<'mqtt.auth_failed'>): void => {
    const who = e.remoteAddress ?? e.clientId
    const suppressed = this.throttle.take(`auth:${who}`)
    if (suppressed !== undefined) {
      this.log.warn(
        {
          clientId: e.clientId,
          username: e.username,
          remoteAddress: e.remoteAddress,
          returnCode: e.returnCode,
          reason: e.reason,
          suppressed
        },
        'mqtt connection refused'
      )
    }
    if (e.penaltyStarted) {
      this.record(who, {
        level: 'warning',
        type: 'auth_throttled',
        source: 'mqtt',
        target: e.remoteAddress,
        username: e.username,
        payload: { remoteAddress: e.remoteAddress }
      })
    }
    if (e.throttled) return
    // Per address: the username is whatever the attacker typed.
    this.record(who, {
      level: 'warning',
      type: 'auth_failed',
      source: 'mqtt',
      action: 'connect',
      target: e.clientId,
      username: e.username,
      payload: { clientId: e.clientId, remoteAddress: e.remoteAddress, returnCode: e.returnCode, reason: e.reason }
    })
  }

  private readonly onAclDenied = (e: Payload<'mqtt.acl_denied'>): void => {
    const suppressed = this.throttle.take(`acl:${e.clientId}`)
    // A refused publish closes the connection, so those are bounded by the connect rate and always recorded.
    if (suppressed === undefined && e.action === 'subscribe') return
    if (suppressed !== undefined) this.log.warn({ ...e, suppressed }, 'mqtt access denied')
    this.record(e.username ?? e.clientId, {
      level: 'warning',
      type: 'acl_denied',
      source: 'mqtt',
      action: e.action,
      target: e.topic,
      username: e.username,
      payload: { clientId: e.clientId, reason: e.reason }
    })
  }

  private readonly onPayloadInvalid = (e: Payload<'mqtt.payload_invalid'>): void => {
    const suppressed = this.throttle.take(`payload:${e.clientId}`)
    if (suppressed === undefined) return
    this.log.warn({ ...e, suppressed }, 'mqtt payload refused')
    this.record(e.deviceUuid ?? e.clientId, {
      level: 'warning',
      type: 'payload_invalid',
      source: 'mqtt',
      target: e.topic,
      payload: { clientId: e.clientId, reason: e.reason, suppressed }
    })
  }

  async start (): Promise<void> {
    this.ctx.bus.on('mqtt.auth_failed', this.onAuthFailed)
    this.ctx.bus.on('mqtt.acl_denied', this.onAclDenied)
    this.ctx.bus.on('mqtt.payload_invalid', this.onPayloadInvalid)
    this.window = this.ctx.clock.setInterval(() => this.closeWindow(), AUDIT_WINDOW_MS)
  }

  async stop (): Promise<void> {
    this.ctx.bus.off('mqtt.auth_failed', this.onAuthFailed)
    this.ctx.bus.off('mqtt.acl_denied', this.onAclDenied)
    this.ctx.bus.off('mqtt.payload_invalid', this.onPayloadInvalid)
    this.window?.cancel()
    this.closeWindow()
  }
}

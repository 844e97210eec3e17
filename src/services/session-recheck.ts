import type { Client } from 'aedes'
import { liveSessions } from '../broker/sessions.js'
import type { Timer } from '../clock.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import type { Logger } from '../log.js'
import type { Principal } from '../auth/principal.js'

/** The longest delay setTimeout honours (2^31 - 1 ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Rights are granted at CONNECT. The API closes the connections of a device or user it disables, deletes, gives
 * another role or a new password, or whose secret it rotates, at once; changes made elsewhere (the CLI opens the
 * database from another process) are found here: every `auth.sessionRecheckMs` the identities of the live
 * connections are read again, and a connection is closed when its device is gone, disabled or has another secret,
 * or its user is gone, disabled, has another role or has revoked the token the connection was opened with. A
 * device or user that connects again is checked as what it is now.
 *
 * A user's connection also ends when the login token it connected with expires: a timer per connection, closed at
 * the token's `exp` (and each pass closes any that a timer missed).
 */
export class SessionRecheckService implements Service {
  readonly name = 'session-recheck'
  private readonly log: Logger
  private timer?: Timer
  private checking?: Promise<number>
  private readonly expiries = new Map<Client, Timer>()

  constructor (private readonly ctx: Services) {
    this.log = ctx.log.child({ module: 'access' })
  }

  private readonly onClientReady = (client: Client): void => {
    const principal = this.ctx.hooks.principalOf(client)
    if (principal?.kind !== 'user' || principal.token === undefined) return
    const delay = Math.max(0, principal.token.expiresAt - this.ctx.clock.now())
    // Past what a timer can hold (~24.8 days) the periodic pass closes it.
    if (delay > MAX_TIMER_MS) return
    this.expiries.get(client)?.cancel()
    this.expiries.set(client, this.ctx.clock.setTimeout(() => {
      this.expiries.delete(client)
      this.end(client, 'token expired')
    }, delay))
  }

  private readonly onClientGone = (client: Client): void => {
    this.expiries.get(client)?.cancel()
    this.expiries.delete(client)
  }

  async start (): Promise<void> {
    const { aedes } = this.ctx.broker
    aedes.on('clientReady', this.onClientReady)
    aedes.on('clientDisconnect', this.onClientGone)
    this.timer = this.ctx.clock.setInterval(() => { void this.recheck() }, this.ctx.config.auth.sessionRecheckMs)
  }

  async stop (): Promise<void> {
    const { aedes } = this.ctx.broker
    aedes.off('clientReady', this.onClientReady)
    aedes.off('clientDisconnect', this.onClientGone)
    this.timer?.cancel()
    for (const t of this.expiries.values()) t.cancel()
    this.expiries.clear()
    await this.checking
  }

  /** One pass (at most one at a time); resolves with how many connections it closed. */
  async recheck (): Promise<number> {
    this.checking ??= this.pass().catch(err => {
      this.log.error({ err }, 'session recheck failed')
      return 0
    }).finally(() => { this.checking = undefined })
    return await this.checking
  }

  private end (client: Client, reason: string): boolean {
    this.onClientGone(client)
    if (client.closed) return false
    this.log.warn({ clientId: client.id, reason }, 'mqtt connection closed: its identity changed')
    client.close()
    return true
  }

  private async pass (): Promise<number> {
    const live = liveSessions(this.ctx.broker.aedes, this.ctx.hooks.principalOf).filter(
      s => s.principal.kind === 'device' || s.principal.kind === 'user'
    )
    if (live.length === 0) return 0
    const { devices, users } = this.ctx.repos
    const deviceOf = new Map((await devices.access()).map(d => [d.uuid, d]))
    const userOf = new Map((await users.access()).map(u => [u.username, u]))
    const now = this.ctx.clock.now()
    const why = (p: Principal): string | undefined => {
      if (p.kind === 'device') {
        const d = deviceOf.get(p.uuid)
        // An auto-registered device has no row until it announces itself.
        if (d === undefined) return p.pending === undefined ? 'device deleted' : undefined
        if (!d.enabled) return 'device disabled'
        if (p.certSerial !== undefined && d.certSerial !== p.certSerial) return 'device certificate revoked'
        const connectedWith = p.secretHash ?? p.pending?.secretHash
        return connectedWith !== undefined && d.secretHash !== connectedWith ? 'device secret rotated' : undefined
      }
      if (p.kind !== 'user') return undefined
      const u = userOf.get(p.username)
      if (u === undefined) return 'user deleted'
      if (!u.enabled) return 'user disabled'
      if (u.role !== p.role) return `role is now ${u.role}`
      if (p.token !== undefined && p.token.version !== u.tokenVersion) return 'token revoked'
      return p.token !== undefined && p.token.expiresAt <= now ? 'token expired' : undefined
    }
    let closed = 0
    for (const { client, principal } of live) {
      const reason = why(principal)
      if (reason !== undefined && this.end(client, reason)) closed++
    }
    return closed
  }
}

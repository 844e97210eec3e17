import { liveSessions } from '../broker/sessions.js'
import type { Timer } from '../clock.js'
import type { AppContext, Service } from '../context.js'
import type { Logger } from '../log.js'
import type { Principal } from '../auth/principal.js'

/**
 * Rights are granted at CONNECT. The API closes the connections of a device or user it disables, deletes or gives
 * another role at once; changes made elsewhere (the CLI opens the database from another process) are found here:
 * every `auth.sessionRecheckMs` the identities of the live connections are read again, and a connection is closed
 * when its device is gone or disabled, or its user is gone, disabled or has another role. A device or user that
 * connects again is checked as what it is now.
 */
export class SessionRecheckService implements Service {
  readonly name = 'session-recheck'
  private readonly log: Logger
  private timer?: Timer
  private checking?: Promise<number>

  constructor (private readonly ctx: AppContext) {
    this.log = ctx.log.child({ module: 'access' })
  }

  async start (): Promise<void> {
    this.timer = this.ctx.clock.setInterval(() => { void this.recheck() }, this.ctx.config.auth.sessionRecheckMs)
  }

  async stop (): Promise<void> {
    this.timer?.cancel()
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

  private async pass (): Promise<number> {
    const live = liveSessions(this.ctx.broker.aedes, this.ctx.hooks.principalOf).filter(s => s.principal.kind === 'device' || s.principal.kind === 'user')
    if (live.length === 0) return 0
    const { devices, users } = this.ctx.repos
    const deviceOf = new Map((await devices.access()).map(d => [d.uuid, d]))
    const userOf = new Map((await users.access()).map(u => [u.username, u]))
    const why = (p: Principal): string | undefined => {
      if (p.kind === 'device') {
        const d = deviceOf.get(p.uuid)
        // An auto-registered device has no row until it announces itself.
        if (d === undefined) return p.pending === undefined ? 'device deleted' : undefined
        return d.enabled ? undefined : 'device disabled'
      }
      if (p.kind !== 'user') return undefined
      const u = userOf.get(p.username)
      if (u === undefined) return 'user deleted'
      if (!u.enabled) return 'user disabled'
      return u.role === p.role ? undefined : `role is now ${u.role}`
    }
    let closed = 0
    for (const { client, principal } of live) {
      const reason = why(principal)
      if (reason === undefined || client.closed) continue
      this.log.warn({ clientId: client.id, reason }, 'mqtt connection closed: its identity changed')
      client.close()
      closed++
    }
    return closed
  }
}

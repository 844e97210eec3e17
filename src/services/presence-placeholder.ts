import type { Client, Subscription } from 'aedes'
import type { AppContext, Service } from '../context.js'
import { CommandsRepository } from '../persistence/repositories/commands.js'
import type { EventMap } from '../events.js'

/**
 * PLACEHOLDER until the presence service of the access branch is merged (the lead removes this file then).
 * Emits `device.online` when a registered device subscribes to its command topics, and `device.offline` when its
 * connection closes; the real presence service emits the same two events.
 */
export class PresencePlaceholder implements Service {
  readonly name = 'presence-placeholder'
  private readonly repo: CommandsRepository
  private readonly online = new Set<string>()
  private readonly onSubscribe = (subs: Subscription[], client: Client): void => {
    if (!subs.some(s => s.topic.endsWith('/command'))) return
    void this.repo.deviceId(client.id).then(id => {
      if (id === undefined || this.online.has(client.id)) return
      this.online.add(client.id)
      this.ctx.bus.emit('device.online', { uuid: client.id })
    })
  }

  private readonly onDisconnect = ({ clientId }: EventMap['client.disconnected'][0]): void => {
    if (this.online.delete(clientId)) this.ctx.bus.emit('device.offline', { uuid: clientId })
  }

  constructor (private readonly ctx: AppContext) {
    this.repo = new CommandsRepository(ctx.db.dataSource)
  }

  async start (): Promise<void> {
    this.ctx.broker.aedes.on('subscribe', this.onSubscribe)
    this.ctx.bus.on('client.disconnected', this.onDisconnect)
  }

  async stop (): Promise<void> {
    this.ctx.broker.aedes.off('subscribe', this.onSubscribe)
    this.ctx.bus.off('client.disconnected', this.onDisconnect)
  }
}

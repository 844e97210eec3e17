import type { Service } from '../context.js'
import type { Services } from './index.js'
import { topicOf, type GatewayStatusPayload } from '../protocol/index.js'
import { version } from '../version.js'

/** Publishes the retained `autocore/gateway/{id}/status`: online at start, offline at stop. */
export class GatewayStatusService implements Service {
  readonly name = 'gateway-status'
  constructor (private readonly ctx: Services) {}

  private payload (status: GatewayStatusPayload['status']): GatewayStatusPayload {
    return { status, version, started_at: new Date(this.ctx.startedAt).toISOString() }
  }

  async start (): Promise<void> {
    await this.ctx.broker.publish(topicOf('gatewayStatus', { id: this.ctx.config.gatewayId }), this.payload('online'), {
      qos: 1,
      retain: true
    })
  }

  async stop (): Promise<void> {
    await this.ctx.broker.publish(
      topicOf('gatewayStatus', { id: this.ctx.config.gatewayId }),
      this.payload('offline'),
      { qos: 1, retain: true }
    )
  }
}

import { randomUUID } from 'node:crypto'
import type { Timer } from '../clock.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import { topicOf, type GatewayHeartbeatPayload } from '../protocol/index.js'
import type { Logger } from '../log.js'

/**
 * The gateway's heartbeat (issue 14): `autocore/gateway/{gatewayId}/heartbeat` every `gateway.heartbeatMs`, QoS 0
 * and not retained (a retained or queued heartbeat would tell a board the gateway lives when it does not), with a
 * sequence number, this start's boot id and its uptime. A board that misses `gateway.deadmanMisses` of them turns
 * its `fail_safe: off` channels off by itself (the contract is announced in each device config). Stops first on
 * shutdown and never on a crash, which is the point.
 */
export class HeartbeatService implements Service {
  readonly name = 'heartbeat'
  readonly bootId = randomUUID()
  private seq = 0
  private timer?: Timer
  private readonly log: Logger

  constructor (private readonly ctx: Services) {
    this.log = ctx.log.child({ module: 'heartbeat' })
  }

  async start (): Promise<void> {
    this.beat()
    this.timer = this.ctx.clock.setInterval(() => this.beat(), this.ctx.config.gateway.heartbeatMs)
  }

  async stop (): Promise<void> {
    this.timer?.cancel()
  }

  private beat (): void {
    const body: GatewayHeartbeatPayload = {
      seq: ++this.seq,
      boot_id: this.bootId,
      uptime_s: Math.floor((this.ctx.clock.now() - this.ctx.startedAt) / 1000)
    }
    this.ctx.broker
      .publish(topicOf('gatewayHeartbeat', { id: this.ctx.config.gatewayId }), body, { qos: 0 })
      .catch(err => this.log.warn({ err }, 'heartbeat not published'))
  }
}

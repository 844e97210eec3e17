import type { DataSource, Repository } from 'typeorm'
import type { EventLevel } from '../../../entities/event-log.js'
import { WebhookDelivery, type WebhookDeliveryStatus } from '../../../entities/webhook-delivery.js'
import { Webhook } from '../../../entities/webhook.js'

export interface WebhookFields {
  url: string
  secret: string
  events: string[]
  minLevel: EventLevel
  enabled: boolean
}

/** The `webhooks` table (admin CRUD) and the read side of its deliveries; the outbox is webhook-outbox.ts. */
export class WebhooksRepository {
  private readonly hooks: Repository<Webhook>
  private readonly deliveryRepo: Repository<WebhookDelivery>
  constructor (dataSource: DataSource) {
    this.hooks = dataSource.getRepository(Webhook)
    this.deliveryRepo = dataSource.getRepository(WebhookDelivery)
  }

  async list (page: { limit: number, offset: number }): Promise<{ items: Webhook[], total: number }> {
    const [items, total] = await this.hooks.findAndCount({ order: { id: 'ASC' }, take: page.limit, skip: page.offset })
    return { items, total }
  }

  async get (id: number): Promise<Webhook | null> {
    return await this.hooks.findOneBy({ id })
  }

  async create (fields: WebhookFields, now: number): Promise<Webhook> {
    return await this.hooks.save(
      this.hooks.create({ ...fields, createdAt: now, failureCount: 0, circuitOpenUntil: null })
    )
  }

  /**
   * Applies the patch; a new URL or re-enabling also closes the circuit (a fresh start for the endpoint). Null when no
   * such webhook.
   */
  async update (id: number, patch: Partial<WebhookFields>): Promise<Webhook | null> {
    const hook = await this.get(id)
    if (hook === null) return null
    const reset = (patch.url !== undefined && patch.url !== hook.url) || (patch.enabled === true && !hook.enabled)
    await this.hooks.update({ id }, { ...patch, ...(reset ? { failureCount: 0, circuitOpenUntil: null } : {}) })
    return await this.get(id)
  }

  /** Deletes the webhook and (foreign key, cascade) its deliveries; false when there was none. */
  async remove (id: number): Promise<boolean> {
    const r = await this.hooks.delete({ id })
    return (r.affected ?? 0) > 0
  }

  /** A webhook's deliveries, newest first, paged in SQL. */
  async deliveries (
    webhookId: number,
    q: { status?: WebhookDeliveryStatus, limit: number, offset: number }
  ): Promise<{ items: WebhookDelivery[], total: number }> {
    const [items, total] = await this.deliveryRepo.findAndCount({
      where: q.status === undefined ? { webhookId } : { webhookId, status: q.status },
      order: { id: 'DESC' },
      take: q.limit,
      skip: q.offset
    })
    return { items, total }
  }

  async delivery (id: number): Promise<WebhookDelivery | null> {
    return await this.deliveryRepo.findOneBy({ id })
  }

  /**
   * A failed delivery back to pending with a fresh set of attempts, due now; false when it is not (or no longer)
   * failed.
   */
  async requeue (id: number, now: number): Promise<boolean> {
    const r = await this.deliveryRepo.update(
      { id, status: 'failed' },
      { status: 'pending', attempts: 0, nextAttemptAt: now }
    )
    return (r.affected ?? 0) > 0
  }
}

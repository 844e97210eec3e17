import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm'
import { epochMs } from './columns.js'
import { Webhook } from './webhook.js'

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed'

/** The durable outbox: one row per event per webhook until it is delivered or given up. */
@Entity('webhook_deliveries')
@Index('idx_webhook_deliveries_status_next_attempt_at', ['status', 'nextAttemptAt'])
@Index('idx_webhook_deliveries_webhook_id', ['webhookId'])
export class WebhookDelivery {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ name: 'webhook_id', type: 'integer' })
  webhookId!: number

  // No foreign key: event_logs rows expire (30 days) independently of the outbox.
  @Column({ name: 'event_id', type: 'integer', nullable: true })
  eventId!: number | null

  /** The exact JSON body that is signed and sent, frozen at enqueue time. */
  @Column({ type: 'text' })
  payload!: string

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: WebhookDeliveryStatus

  @Column({ type: 'integer', default: 0 })
  attempts!: number

  @Column({ ...epochMs, name: 'next_attempt_at' })
  nextAttemptAt!: number

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null

  @Column({ ...epochMs, name: 'created_at' })
  createdAt!: number

  @Column({ ...epochMs, name: 'delivered_at', nullable: true })
  deliveredAt!: number | null

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'fk_webhook_deliveries_webhook' })
  webhook?: Relation<Webhook>
}

import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { epochMs } from './columns.js'
import type { EventLevel } from './event-log.js'

@Entity('webhooks')
export class Webhook {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'text' })
  url!: string

  /** HMAC signing key; it has to be readable, so it is stored as given, not hashed. */
  @Column({ type: 'text' })
  secret!: string

  /**
   * Event types to deliver (e.g. ["emergency_stop", "device_*"]; `*` matches any run of characters); empty means all.
   */
  @Column({ type: 'simple-json' })
  events!: string[]

  @Column({ type: 'boolean', default: true })
  enabled!: boolean

  /** Events below this level are not delivered (info < warning < error < critical). */
  @Column({ name: 'min_level', type: 'varchar', length: 16, default: 'info' })
  minLevel!: EventLevel

  @Column({ ...epochMs, name: 'created_at' })
  createdAt!: number

  /** Consecutive failed deliveries; reset on success. */
  @Column({ name: 'failure_count', type: 'integer', default: 0 })
  failureCount!: number

  @Column({ ...epochMs, name: 'circuit_open_until', nullable: true })
  circuitOpenUntil!: number | null
}

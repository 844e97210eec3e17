import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm'
import { epochMs } from './columns.js'
import { Device } from './device.js'

export type CommandSource = 'api' | 'mqtt' | 'macro' | 'emergency' | 'system'
export type CommandStatus = 'pending' | 'sent' | 'acked' | 'failed' | 'timeout' | 'expired'

/** One command to a device and its lifecycle pending → sent → acked | failed | timeout. */
@Entity('commands')
@Unique('uq_commands_command_id', ['commandId'])
@Index('idx_commands_status', ['status'])
@Index('idx_commands_device_created_at', ['deviceId', 'createdAt'])
export class Command {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  /** The UUID sent to the device as `command_id` and echoed in its response. */
  @Column({ name: 'command_id', type: 'varchar', length: 36 })
  commandId!: string

  @Column({ name: 'device_id', type: 'integer' })
  deviceId!: number

  @Column({ type: 'varchar', length: 16 })
  source!: CommandSource

  @Column({ type: 'varchar', length: 64, nullable: true })
  username!: string | null

  @Column({ type: 'varchar', length: 64 })
  command!: string

  @Column({ type: 'simple-json' })
  payload!: Record<string, unknown>

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: CommandStatus

  @Column({ type: 'integer', default: 0 })
  attempts!: number

  @Column({ type: 'text', nullable: true })
  message!: string | null

  @Column({ ...epochMs, name: 'created_at' })
  createdAt!: number

  @Column({ ...epochMs, name: 'sent_at', nullable: true })
  sentAt!: number | null

  @Column({ ...epochMs, name: 'completed_at', nullable: true })
  completedAt!: number | null

  @Column({ ...epochMs, name: 'expires_at', nullable: true })
  expiresAt!: number | null

  @Column({ name: 'latency_ms', type: 'integer', nullable: true })
  latencyMs!: number | null

  @ManyToOne(() => Device, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'fk_commands_device' })
  device?: Relation<Device>
}

import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm'
import { double, epochMs } from './columns.js'
import { Device } from './device.js'

/** Per-minute roll-up of numeric readings, kept after the raw rows expire. */
@Entity('telemetry_aggregates')
@Unique('uq_telemetry_aggregates_device_key_bucket', ['deviceId', 'key', 'bucketStart'])
@Index('idx_telemetry_aggregates_bucket_start', ['bucketStart'])
export class TelemetryAggregate {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ name: 'device_id', type: 'integer' })
  deviceId!: number

  @Column({ type: 'varchar', length: 64 })
  key!: string

  /** Start of the minute, epoch ms. */
  @Column({ ...epochMs, name: 'bucket_start' })
  bucketStart!: number

  @Column({ type: 'integer' })
  count!: number

  @Column({ ...double })
  min!: number

  @Column({ ...double })
  max!: number

  @Column({ ...double })
  avg!: number

  @Column({ ...double })
  last!: number

  @ManyToOne(() => Device, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'fk_telemetry_aggregates_device' })
  device?: Relation<Device>
}

import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm'
import { double, epochMs } from './columns.js'
import { Device } from './device.js'

export type TelemetryDataType = 'number' | 'boolean' | 'string'

/** One raw reading. The hot write path: keep it lean and insert with `insert()`, never `save()`. */
@Entity('telemetry_data')
@Index('idx_telemetry_data_device_key_ts', ['deviceId', 'key', 'ts'])
@Index('idx_telemetry_data_ts', ['ts'])
export class TelemetryData {
  // integer: SQLite allows AUTOINCREMENT only on INTEGER (64-bit there, 32-bit serial on PostgreSQL).
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ name: 'device_id', type: 'integer' })
  deviceId!: number

  @Column({ type: 'varchar', length: 64 })
  key!: string

  /** Numeric readings (booleans as 0/1); null when the reading is textual. */
  @Column({ ...double, nullable: true })
  value!: number | null

  @Column({ name: 'value_text', type: 'varchar', length: 255, nullable: true })
  valueText!: string | null

  @Column({ type: 'varchar', length: 16, nullable: true })
  unit!: string | null

  @Column({ name: 'data_type', type: 'varchar', length: 16, default: 'number' })
  dataType!: TelemetryDataType

  @Column({ ...epochMs })
  ts!: number

  @ManyToOne(() => Device, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'fk_telemetry_data_device' })
  device?: Relation<Device>
}

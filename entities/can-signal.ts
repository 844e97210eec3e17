import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm'
import { double } from './columns.js'
import { Device } from './device.js'

export type ByteOrder = 'little' | 'big'

/** How to decode one signal out of a CAN frame: physical = raw * scale + offset. */
@Entity('can_signals')
@Index('idx_can_signals_can_id', ['canId'])
export class CanSignal {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'varchar', length: 64 })
  name!: string

  @Column({ name: 'can_id', type: 'integer' })
  canId!: number

  @Column({ name: 'start_bit', type: 'integer' })
  startBit!: number

  /** In bits. */
  @Column({ type: 'integer' })
  length!: number

  @Column({ name: 'byte_order', type: 'varchar', length: 8, default: 'little' })
  byteOrder!: ByteOrder

  @Column({ name: 'is_signed', type: 'boolean', default: false })
  isSigned!: boolean

  @Column({ ...double, default: 1 })
  scale!: number

  // OFFSET, MIN and MAX are SQL keywords or functions; suffixed so raw SQL needs no quoting.
  @Column({ ...double, name: 'offset_value', default: 0 })
  offset!: number

  @Column({ type: 'varchar', length: 16, nullable: true })
  unit!: string | null

  @Column({ ...double, name: 'min_value', nullable: true })
  min!: number | null

  @Column({ ...double, name: 'max_value', nullable: true })
  max!: number | null

  /** Key the decoded value is stored under in telemetry_data; defaults to `name` when null. */
  @Column({ name: 'telemetry_key', type: 'varchar', length: 64, nullable: true })
  telemetryKey!: string | null

  /** The CAN bridge this signal is read from; null matches frames from any bridge. */
  @Column({ name: 'device_id', type: 'integer', nullable: true })
  deviceId!: number | null

  @Column({ type: 'boolean', default: true })
  enabled!: boolean

  @ManyToOne(() => Device, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'fk_can_signals_device' })
  device?: Relation<Device> | null
}

import { Column, Entity, OneToMany, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm'
import { epochMs } from './columns.js'
import { RelayChannel } from './relay-channel.js'

export type DeviceStatus = 'online' | 'offline' | 'pending'

@Entity('devices')
@Unique('uq_devices_uuid', ['uuid'])
export class Device {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'varchar', length: 64 })
  uuid!: string

  @Column({ type: 'varchar', length: 128 })
  name!: string

  /** relay_board, display, sensor, can_bridge, emergency_button, ... */
  @Column({ type: 'varchar', length: 32 })
  type!: string

  @Column({ type: 'varchar', length: 16, default: 'offline' })
  status!: DeviceStatus

  @Column({ type: 'boolean', default: true })
  enabled!: boolean

  @Column({ name: 'secret_hash', type: 'text', nullable: true })
  secretHash!: string | null

  /** The serial (hex, upper case) of the one client certificate the device may connect with; null: none. */
  @Column({ name: 'cert_serial', type: 'varchar', length: 64, nullable: true })
  certSerial!: string | null

  @Column({ type: 'varchar', length: 64, nullable: true })
  firmware!: string | null

  // 45 fits the longest textual IPv6 form (IPv4-mapped).
  @Column({ name: 'ip_address', type: 'varchar', length: 45, nullable: true })
  ipAddress!: string | null

  @Column({ name: 'mac_address', type: 'varchar', length: 17, nullable: true })
  macAddress!: string | null

  @Column({ type: 'simple-json', nullable: true })
  capabilities!: string[] | null

  @Column({ type: 'simple-json', nullable: true })
  config!: Record<string, unknown> | null

  @Column({ name: 'config_version', type: 'integer', default: 0 })
  configVersion!: number

  @Column({ name: 'applied_config_version', type: 'integer', nullable: true })
  appliedConfigVersion!: number | null

  @Column({ ...epochMs, name: 'last_seen', nullable: true })
  lastSeen!: number | null

  @Column({ ...epochMs, name: 'created_at' })
  createdAt!: number

  @Column({ ...epochMs, name: 'updated_at' })
  updatedAt!: number

  @OneToMany(() => RelayChannel, (channel) => channel.device)
  relayChannels?: Relation<RelayChannel[]>
}

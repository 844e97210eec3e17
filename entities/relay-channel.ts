import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm'
import { epochMs } from './columns.js'
import { Device } from './device.js'

export type RelayFunction = 'toggle' | 'momentary' | 'pulse'
/** What the board does with the channel when the gateway's heartbeat stops: 'off' turns it off, 'hold' keeps it. */
export type FailSafe = 'off' | 'hold'

@Entity('relay_channels')
@Unique('uq_relay_channels_device_channel', ['deviceId', 'channelNumber'])
export class RelayChannel {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ name: 'device_id', type: 'integer' })
  deviceId!: number

  @Column({ name: 'channel_number', type: 'integer' })
  channelNumber!: number

  @Column({ type: 'varchar', length: 64 })
  name!: string

  @Column({ type: 'varchar', length: 16, default: 'toggle' })
  function!: RelayFunction

  @Column({ name: 'mutex_group', type: 'varchar', length: 64, nullable: true })
  mutexGroup!: string | null

  @Column({ name: 'max_on_ms', type: 'integer', nullable: true })
  maxOnMs!: number | null

  @Column({ name: 'pulse_ms', type: 'integer', nullable: true })
  pulseMs!: number | null

  @Column({ name: 'default_state', type: 'boolean', default: false })
  defaultState!: boolean

  /** As last confirmed by the board on autocore/relays/{uuid}/state; null until it reports. */
  @Column({ name: 'current_state', type: 'boolean', nullable: true })
  currentState!: boolean | null

  /** As last commanded by the gateway. */
  @Column({ name: 'desired_state', type: 'boolean', nullable: true })
  desiredState!: boolean | null

  @Column({ type: 'boolean', default: true })
  enabled!: boolean

  @Column({ name: 'fail_safe', type: 'varchar', length: 8, default: 'hold' })
  failSafe!: FailSafe

  @Column({ ...epochMs, name: 'updated_at' })
  updatedAt!: number

  @ManyToOne(() => Device, (device) => device.relayChannels, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'fk_relay_channels_device' })
  device?: Relation<Device>
}

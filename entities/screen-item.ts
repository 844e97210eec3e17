import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm'
import { RelayChannel } from './relay-channel.js'
import { Screen } from './screen.js'

@Entity('screen_items')
@Index('idx_screen_items_screen_position', ['screenId', 'position'])
export class ScreenItem {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ name: 'screen_id', type: 'integer' })
  screenId!: number

  /** button, switch, gauge, display, ... */
  @Column({ name: 'item_type', type: 'varchar', length: 32 })
  itemType!: string

  @Column({ type: 'varchar', length: 128 })
  label!: string

  @Column({ type: 'integer', default: 0 })
  position!: number

  @Column({ name: 'relay_channel_id', type: 'integer', nullable: true })
  relayChannelId!: number | null

  @Column({ name: 'mutex_group', type: 'varchar', length: 64, nullable: true })
  mutexGroup!: string | null

  @Column({ type: 'simple-json', nullable: true })
  action!: Record<string, unknown> | null

  @Column({ name: 'data_source', type: 'simple-json', nullable: true })
  dataSource!: Record<string, unknown> | null

  @Column({ type: 'simple-json', nullable: true })
  style!: Record<string, unknown> | null

  @ManyToOne(() => Screen, (screen) => screen.items, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'screen_id', foreignKeyConstraintName: 'fk_screen_items_screen' })
  screen?: Relation<Screen>

  // Deleting a channel leaves the control on screen, unbound, rather than deleting it.
  @ManyToOne(() => RelayChannel, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'relay_channel_id', foreignKeyConstraintName: 'fk_screen_items_relay_channel' })
  relayChannel?: Relation<RelayChannel> | null
}

import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm'
import { epochMs } from './columns.js'

export type EventLevel = 'info' | 'warning' | 'error' | 'critical'

@Entity('event_logs')
@Index('idx_event_logs_ts', ['ts'])
@Index('idx_event_logs_event_type_ts', ['eventType', 'ts'])
@Index('idx_event_logs_level_ts', ['level', 'ts'])
export class EventLog {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ ...epochMs })
  ts!: number

  @Column({ type: 'varchar', length: 16 })
  level!: EventLevel

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string

  @Column({ type: 'varchar', length: 64 })
  source!: string

  @Column({ type: 'varchar', length: 64, nullable: true })
  action!: string | null

  @Column({ type: 'varchar', length: 128, nullable: true })
  target!: string | null

  // Not "user": that is a reserved word in PostgreSQL.
  @Column({ type: 'varchar', length: 64, nullable: true })
  username!: string | null

  @Column({ type: 'simple-json', nullable: true })
  payload!: Record<string, unknown> | null
}

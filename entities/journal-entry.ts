import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm'
import { epochMs } from './columns.js'

export type JournalOutcome = 'accepted' | 'refused'

/**
 * The black-box journal (issue 14): one row per control action (relay set/hold/pulse, macro run/cancel, emergency
 * stop/reset, device config push), who asked through what, and whether it was accepted. Written before the command
 * it causes is handed to a board; `command_id` joins it with the command's final status.
 */
@Entity('control_journal')
@Index('idx_control_journal_ts', ['ts'])
@Index('idx_control_journal_target_ts', ['target', 'ts'])
export class JournalEntry {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ ...epochMs })
  ts!: number

  /** The user name, the device UUID, the MQTT client id, or 'gateway'. */
  @Column({ type: 'varchar', length: 128 })
  actor!: string

  @Column({ name: 'actor_kind', type: 'varchar', length: 16 })
  actorKind!: string

  @Column({ type: 'varchar', length: 16, nullable: true })
  role!: string | null

  @Column({ type: 'varchar', length: 24 })
  transport!: string

  @Column({ type: 'varchar', length: 64, nullable: true })
  address!: string | null

  @Column({ type: 'varchar', length: 32 })
  action!: string

  @Column({ type: 'varchar', length: 128, nullable: true })
  target!: string | null

  @Column({ type: 'simple-json', nullable: true })
  params!: Record<string, unknown> | null

  @Column({ type: 'varchar', length: 16 })
  outcome!: JournalOutcome

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode!: string | null

  @Column({ name: 'command_id', type: 'varchar', length: 64, nullable: true })
  commandId!: string | null
}

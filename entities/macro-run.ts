import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm'
import { epochMs } from './columns.js'
import type { CommandSource } from './command.js'
import { Macro } from './macro.js'

/** 'interrupted': the gateway stopped or died during the run; it is never resumed. */
export type MacroRunStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted'

@Entity('macro_runs')
@Index('idx_macro_runs_status', ['status'])
@Index('idx_macro_runs_macro_started_at', ['macroId', 'startedAt'])
export class MacroRun {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ name: 'macro_id', type: 'integer' })
  macroId!: number

  @Column({ type: 'varchar', length: 16, default: 'running' })
  status!: MacroRunStatus

  @Column({ ...epochMs, name: 'started_at' })
  startedAt!: number

  @Column({ ...epochMs, name: 'finished_at', nullable: true })
  finishedAt!: number | null

  @Column({ type: 'varchar', length: 64, nullable: true })
  username!: string | null

  @Column({ type: 'varchar', length: 16 })
  source!: CommandSource

  @Column({ name: 'current_step', type: 'integer', default: 0 })
  currentStep!: number

  @Column({ type: 'text', nullable: true })
  message!: string | null

  @ManyToOne(() => Macro, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'macro_id', foreignKeyConstraintName: 'fk_macro_runs_macro' })
  macro?: Relation<Macro>
}

import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm'
import { Macro } from './macro.js'

export type MacroActionType = 'relay' | 'command' | 'mqtt_publish' | 'delay'

@Entity('macro_actions')
@Index('idx_macro_actions_macro_position', ['macroId', 'position'])
export class MacroAction {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ name: 'macro_id', type: 'integer' })
  macroId!: number

  /** Execution order within the macro, ascending. */
  @Column({ type: 'integer' })
  position!: number

  @Column({ name: 'action_type', type: 'varchar', length: 16 })
  actionType!: MacroActionType

  @Column({ type: 'simple-json' })
  params!: Record<string, unknown>

  /** Checked against current state before the step runs; the step is skipped when it does not hold. */
  @Column({ type: 'simple-json', nullable: true })
  condition!: Record<string, unknown> | null

  @ManyToOne(() => Macro, (macro) => macro.actions, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'macro_id', foreignKeyConstraintName: 'fk_macro_actions_macro' })
  macro?: Relation<Macro>
}

import { Column, Entity, OneToMany, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm'
import { epochMs } from './columns.js'
import { MacroAction } from './macro-action.js'

@Entity('macros')
@Unique('uq_macros_name', ['name'])
export class Macro {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'varchar', length: 128 })
  name!: string

  @Column({ type: 'text', nullable: true })
  description!: string | null

  @Column({ type: 'boolean', default: true })
  enabled!: boolean

  @Column({ ...epochMs, name: 'created_at' })
  createdAt!: number

  @Column({ ...epochMs, name: 'updated_at' })
  updatedAt!: number

  @OneToMany(() => MacroAction, (action) => action.macro)
  actions?: Relation<MacroAction[]>
}

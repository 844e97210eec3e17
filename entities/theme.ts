import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm'
import { epochMs } from './columns.js'

@Entity('themes')
@Unique('uq_themes_name', ['name'])
export class Theme {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'varchar', length: 64 })
  name!: string

  /** At most one theme is active; that one is retained on autocore/config/theme. */
  @Column({ name: 'is_active', type: 'boolean', default: false })
  isActive!: boolean

  @Column({ type: 'simple-json' })
  colors!: Record<string, string>

  @Column({ type: 'simple-json', nullable: true })
  fonts!: Record<string, unknown> | null

  /** Per device type adjustments, keyed by device type. */
  @Column({ name: 'device_overrides', type: 'simple-json', nullable: true })
  deviceOverrides!: Record<string, Record<string, unknown>> | null

  @Column({ ...epochMs, name: 'created_at' })
  createdAt!: number

  @Column({ ...epochMs, name: 'updated_at' })
  updatedAt!: number
}

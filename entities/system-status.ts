import { Column, Entity, PrimaryColumn } from 'typeorm'
import { epochMs } from './columns.js'

/** Small persisted key/value state that must survive a restart, e.g. key 'emergency'. */
@Entity('system_status')
export class SystemStatus {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key!: string

  @Column({ type: 'simple-json' })
  value!: unknown

  @Column({ ...epochMs, name: 'updated_at' })
  updatedAt!: number
}

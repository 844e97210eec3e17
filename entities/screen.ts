import { Column, Entity, OneToMany, PrimaryGeneratedColumn, type Relation } from 'typeorm'
import { ScreenItem } from './screen-item.js'

@Entity('screens')
export class Screen {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'varchar', length: 64 })
  name!: string

  @Column({ type: 'varchar', length: 128 })
  title!: string

  /** Restricts the screen to one device type (e.g. display); null shows it everywhere. */
  @Column({ name: 'device_type', type: 'varchar', length: 32, nullable: true })
  deviceType!: string | null

  @Column({ type: 'integer', default: 0 })
  position!: number

  @Column({ type: 'boolean', default: true })
  enabled!: boolean

  @OneToMany(() => ScreenItem, (item) => item.screen)
  items?: Relation<ScreenItem[]>
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm'
import { epochMs } from './columns.js'

/**
 * A deleted device's UUID and when it was deleted, so `GET /devices/changes` can report deletions. Written in the
 * same transaction as the delete; removed when a device with that UUID is provisioned again.
 */
@Entity('device_tombstones')
@Index('idx_device_tombstones_deleted_at', ['deletedAt'])
export class DeviceTombstone {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  uuid!: string

  @Column({ ...epochMs, name: 'deleted_at' })
  deletedAt!: number
}

import { Table, TableIndex } from 'typeorm'
import { createTableMigration } from './create-table.js'

// A frozen snapshot like the initial schema: `device_tombstones` remembers deleted device UUIDs for
// `GET /api/v1/devices/changes` (see entities/device-tombstone.ts).
const table = new Table({
  name: 'device_tombstones',
  columns: [
    { name: 'uuid', type: 'varchar', length: '64', isPrimary: true },
    { name: 'deleted_at', type: 'bigint' }
  ],
  indices: [new TableIndex({ name: 'idx_device_tombstones_deleted_at', columnNames: ['deleted_at'] })]
})

export const DeviceTombstones1732400000100 = createTableMigration('DeviceTombstones1732400000100', table)

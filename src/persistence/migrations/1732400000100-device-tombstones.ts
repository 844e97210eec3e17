import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

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

export class DeviceTombstones1732400000100 implements MigrationInterface {
  name = 'DeviceTombstones1732400000100'

  async up (queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(table, true)
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(table.name, true)
  }
}

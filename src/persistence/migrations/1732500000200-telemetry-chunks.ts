import { Table, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * A frozen snapshot like the initial schema: `telemetry_chunks` holds closed chunks of one series (device, key),
 * encoded by src/persistence/chunks/codec.ts. No entity maps it (the column is BLOB on SQLite and BYTEA on
 * PostgreSQL, which one entity type cannot say); persistence/repositories/telemetry-chunks.ts is its only user.
 */
function table (binary: string): Table {
  return new Table({
    name: 'telemetry_chunks',
    columns: [
      { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
      { name: 'device_id', type: 'integer' },
      { name: 'key', type: 'varchar', length: '64' },
      { name: 'min_ts', type: 'bigint' },
      { name: 'max_ts', type: 'bigint' },
      { name: 'count', type: 'integer' },
      { name: 'data', type: binary }
    ],
    indices: [
      new TableIndex({ name: 'idx_telemetry_chunks_device_key_max_ts', columnNames: ['device_id', 'key', 'max_ts'] }),
      new TableIndex({ name: 'idx_telemetry_chunks_max_ts', columnNames: ['max_ts'] })
    ],
    foreignKeys: [
      new TableForeignKey({
        name: 'fk_telemetry_chunks_device',
        columnNames: ['device_id'],
        referencedTableName: 'devices',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE'
      })
    ]
  })
}

export class TelemetryChunks1732500000200 implements MigrationInterface {
  name = 'TelemetryChunks1732500000200'

  async up (queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(table(queryRunner.connection.options.type === 'postgres' ? 'bytea' : 'blob'), true)
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('telemetry_chunks', true)
  }
}

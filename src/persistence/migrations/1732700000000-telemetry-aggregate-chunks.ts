import { Table, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * A frozen snapshot: `telemetry_aggregate_chunks` holds one series' minute aggregates of one UTC day, encoded by
 * src/persistence/chunks/aggregates.ts (BLOB on SQLite, BYTEA on PostgreSQL, so no entity maps it);
 * persistence/repositories/telemetry-aggregate-chunks.ts is its only user.
 */
function table (binary: string): Table {
  return new Table({
    name: 'telemetry_aggregate_chunks',
    columns: [
      { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
      { name: 'device_id', type: 'integer' },
      { name: 'key', type: 'varchar', length: '64' },
      { name: 'day_start', type: 'bigint' },
      { name: 'minutes', type: 'integer' },
      { name: 'data', type: binary }
    ],
    indices: [
      new TableIndex({
        name: 'idx_telemetry_aggregate_chunks_series_day',
        columnNames: ['device_id', 'key', 'day_start'],
        isUnique: true
      }),
      new TableIndex({ name: 'idx_telemetry_aggregate_chunks_day', columnNames: ['day_start'] })
    ],
    foreignKeys: [
      new TableForeignKey({
        name: 'fk_telemetry_aggregate_chunks_device',
        columnNames: ['device_id'],
        referencedTableName: 'devices',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE'
      })
    ]
  })
}

export class TelemetryAggregateChunks1732700000000 implements MigrationInterface {
  name = 'TelemetryAggregateChunks1732700000000'

  async up (queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(table(queryRunner.connection.options.type === 'postgres' ? 'bytea' : 'blob'), true)
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('telemetry_aggregate_chunks', true)
  }
}

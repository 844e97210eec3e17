import { TableIndex } from 'typeorm'
import { chunkTable, createTableMigration } from './create-table.js'

/**
 * A frozen snapshot: `telemetry_aggregate_chunks` holds one series' minute aggregates of one UTC day, encoded by
 * src/persistence/chunks/aggregates.ts (BLOB on SQLite, BYTEA on PostgreSQL, so no entity maps it);
 * persistence/repositories/telemetry-aggregate-chunks.ts is its only user.
 */
const table = chunkTable(
  'telemetry_aggregate_chunks',
  [
    { name: 'day_start', type: 'bigint' },
    { name: 'minutes', type: 'integer' }
  ],
  [
    new TableIndex({
      name: 'idx_telemetry_aggregate_chunks_series_day',
      columnNames: ['device_id', 'key', 'day_start'],
      isUnique: true
    }),
    new TableIndex({ name: 'idx_telemetry_aggregate_chunks_day', columnNames: ['day_start'] })
  ]
)

export const TelemetryAggregateChunks1732700000000 =
  createTableMigration('TelemetryAggregateChunks1732700000000', table)

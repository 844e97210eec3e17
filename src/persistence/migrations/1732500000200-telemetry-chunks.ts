import { TableIndex } from 'typeorm'
import { chunkTable, createTableMigration } from './create-table.js'

/**
 * A frozen snapshot like the initial schema: `telemetry_chunks` holds closed chunks of one series (device, key),
 * encoded by src/persistence/chunks/codec.ts. No entity maps it (the column is BLOB on SQLite and BYTEA on
 * PostgreSQL, which one entity type cannot say); persistence/repositories/telemetry-chunks.ts is its only user.
 */
const table = chunkTable(
  'telemetry_chunks',
  [
    { name: 'min_ts', type: 'bigint' },
    { name: 'max_ts', type: 'bigint' },
    { name: 'count', type: 'integer' }
  ],
  [
    new TableIndex({ name: 'idx_telemetry_chunks_device_key_max_ts', columnNames: ['device_id', 'key', 'max_ts'] }),
    new TableIndex({ name: 'idx_telemetry_chunks_max_ts', columnNames: ['max_ts'] })
  ]
)

export const TelemetryChunks1732500000200 = createTableMigration('TelemetryChunks1732500000200', table)

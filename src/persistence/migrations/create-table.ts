import {
  Table,
  TableForeignKey,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
  type TableIndex
} from 'typeorm'

/** A table, or what makes it for the database the migration runs on. */
type TableOf = Table | ((queryRunner: QueryRunner) => Table)

/**
 * A migration that creates one table (unless it exists) and drops it on the way down: the frozen snapshot of a
 * table added after the initial schema. `createTable` is valid on SQLite and PostgreSQL alike.
 */
export function createTableMigration (name: string, table: TableOf): new () => MigrationInterface {
  const tableOf = (queryRunner: QueryRunner): Table => table instanceof Table ? table : table(queryRunner)
  return class implements MigrationInterface {
    name = name

    async up (queryRunner: QueryRunner): Promise<void> {
      await queryRunner.createTable(tableOf(queryRunner), true)
    }

    async down (queryRunner: QueryRunner): Promise<void> {
      await queryRunner.dropTable(tableOf(queryRunner).name, true)
    }
  }
}

/**
 * A table of encoded chunks of telemetry series (device, key): an id, the series, the given columns, then the data
 * (BLOB on SQLite, BYTEA on PostgreSQL, so no entity maps it); its rows go with their device.
 */
export function chunkTable (
  name: string,
  columns: TableColumnOptions[],
  indices: TableIndex[]
): (queryRunner: QueryRunner) => Table {
  return queryRunner => new Table({
    name,
    columns: [
      { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
      { name: 'device_id', type: 'integer' },
      { name: 'key', type: 'varchar', length: '64' },
      ...columns,
      { name: 'data', type: queryRunner.connection.options.type === 'postgres' ? 'bytea' : 'blob' }
    ],
    indices,
    foreignKeys: [
      new TableForeignKey({
        name: `fk_${name}_device`,
        columnNames: ['device_id'],
        referencedTableName: 'devices',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE'
      })
    ]
  })
}

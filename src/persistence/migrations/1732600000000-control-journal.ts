import { Table, TableIndex } from 'typeorm'
import { createTableMigration } from './create-table.js'

// The black-box journal of control actions (issue 14, entities/journal-entry.ts). A frozen snapshot; createTable
// is valid on SQLite and PostgreSQL alike.
const table = new Table({
  name: 'control_journal',
  columns: [
    { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
    { name: 'ts', type: 'bigint' },
    { name: 'actor', type: 'varchar', length: '128' },
    { name: 'actor_kind', type: 'varchar', length: '16' },
    { name: 'role', type: 'varchar', length: '16', isNullable: true },
    { name: 'transport', type: 'varchar', length: '24' },
    { name: 'address', type: 'varchar', length: '64', isNullable: true },
    { name: 'action', type: 'varchar', length: '32' },
    { name: 'target', type: 'varchar', length: '128', isNullable: true },
    { name: 'params', type: 'text', isNullable: true },
    { name: 'outcome', type: 'varchar', length: '16' },
    { name: 'error_code', type: 'varchar', length: '64', isNullable: true },
    { name: 'command_id', type: 'varchar', length: '64', isNullable: true }
  ],
  indices: [
    new TableIndex({ name: 'idx_control_journal_ts', columnNames: ['ts'] }),
    new TableIndex({ name: 'idx_control_journal_target_ts', columnNames: ['target', 'ts'] })
  ]
})

export const ControlJournal1732600000000 = createTableMigration('ControlJournal1732600000000', table)

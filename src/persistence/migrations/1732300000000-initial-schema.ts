import {
  Table, TableForeignKey, TableIndex, TableUnique,
  type MigrationInterface, type QueryRunner, type TableColumnOptions,
} from 'typeorm'

// A migration is a frozen snapshot: it spells the schema out instead of reading the entities, so
// later entity edits need a new migration. It uses the QueryRunner API so the same file runs on
// SQLite and PostgreSQL; names of every constraint and index match the entities' explicit names.

type Extra = Partial<TableColumnOptions>
const nullable: Extra = { isNullable: true }

const id = (): TableColumnOptions =>
  ({ name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' })
const int = (name: string, extra?: Extra): TableColumnOptions => ({ name, type: 'integer', ...extra })
const str = (name: string, length: number, extra?: Extra): TableColumnOptions =>
  ({ name, type: 'varchar', length: String(length), ...extra })
const text = (name: string, extra?: Extra): TableColumnOptions => ({ name, type: 'text', ...extra })
/** What the entities call 'simple-json' is stored as text on both drivers. */
const json = text
const dbl = (name: string, extra?: Extra): TableColumnOptions => ({ name, type: 'double precision', ...extra })
const ms = (name: string, extra?: Extra): TableColumnOptions => ({ name, type: 'bigint', ...extra })
const bool = (name: string, extra?: Extra): TableColumnOptions => ({ name, type: 'boolean', ...extra })
const quoted = (value: string): Extra => ({ default: `'${value}'` })

const index = (table: string, suffix: string, columnNames: string[]) =>
  new TableIndex({ name: `idx_${table}_${suffix}`, columnNames })
const unique = (table: string, suffix: string, columnNames: string[]) =>
  new TableUnique({ name: `uq_${table}_${suffix}`, columnNames })
const fk = (table: string, column: string, referencedTableName: string, onDelete: 'CASCADE' | 'SET NULL') =>
  new TableForeignKey({
    name: `fk_${table}_${column.replace(/_id$/, '')}`,
    columnNames: [column],
    referencedTableName,
    referencedColumnNames: ['id'],
    onDelete,
  })

/** In dependency order: a table only references tables listed before it. */
function schema (flag: (value: boolean) => Extra): Table[] {
  return [
    new Table({
      name: 'devices',
      columns: [
        id(), str('uuid', 64), str('name', 128), str('type', 32), str('status', 16, quoted('offline')),
        bool('enabled', flag(true)), text('secret_hash', nullable), str('firmware', 64, nullable),
        str('ip_address', 45, nullable), str('mac_address', 17, nullable), json('capabilities', nullable),
        json('config', nullable), int('config_version', { default: '0' }), int('applied_config_version', nullable),
        ms('last_seen', nullable), ms('created_at'), ms('updated_at'),
      ],
      uniques: [unique('devices', 'uuid', ['uuid'])],
    }),
    new Table({
      name: 'telemetry_data',
      columns: [
        id(), int('device_id'), str('key', 64), dbl('value', nullable), str('value_text', 255, nullable),
        str('unit', 16, nullable), str('data_type', 16, quoted('number')), ms('ts'),
      ],
      indices: [
        index('telemetry_data', 'device_key_ts', ['device_id', 'key', 'ts']),
        index('telemetry_data', 'ts', ['ts']),
      ],
      foreignKeys: [fk('telemetry_data', 'device_id', 'devices', 'CASCADE')],
    }),
    new Table({
      name: 'telemetry_aggregates',
      columns: [
        id(), int('device_id'), str('key', 64), ms('bucket_start'), int('count'),
        dbl('min'), dbl('max'), dbl('avg'), dbl('last'),
      ],
      uniques: [unique('telemetry_aggregates', 'device_key_bucket', ['device_id', 'key', 'bucket_start'])],
      indices: [index('telemetry_aggregates', 'bucket_start', ['bucket_start'])],
      foreignKeys: [fk('telemetry_aggregates', 'device_id', 'devices', 'CASCADE')],
    }),
    new Table({
      name: 'event_logs',
      columns: [
        id(), ms('ts'), str('level', 16), str('event_type', 64), str('source', 64), str('action', 64, nullable),
        str('target', 128, nullable), str('username', 64, nullable), json('payload', nullable),
      ],
      indices: [
        index('event_logs', 'ts', ['ts']),
        index('event_logs', 'event_type_ts', ['event_type', 'ts']),
        index('event_logs', 'level_ts', ['level', 'ts']),
      ],
    }),
    new Table({
      name: 'relay_channels',
      columns: [
        id(), int('device_id'), int('channel_number'), str('name', 64), str('function', 16, quoted('toggle')),
        str('mutex_group', 64, nullable), int('max_on_ms', nullable), int('pulse_ms', nullable),
        bool('default_state', flag(false)), bool('current_state', nullable), bool('desired_state', nullable),
        bool('enabled', flag(true)), ms('updated_at'),
      ],
      uniques: [unique('relay_channels', 'device_channel', ['device_id', 'channel_number'])],
      foreignKeys: [fk('relay_channels', 'device_id', 'devices', 'CASCADE')],
    }),
    new Table({
      name: 'commands',
      columns: [
        id(), str('command_id', 36), int('device_id'), str('source', 16), str('username', 64, nullable),
        str('command', 64), json('payload'), str('status', 16, quoted('pending')), int('attempts', { default: '0' }),
        text('message', nullable), ms('created_at'), ms('sent_at', nullable), ms('completed_at', nullable),
        ms('expires_at', nullable), int('latency_ms', nullable),
      ],
      uniques: [unique('commands', 'command_id', ['command_id'])],
      indices: [
        index('commands', 'status', ['status']),
        index('commands', 'device_created_at', ['device_id', 'created_at']),
      ],
      foreignKeys: [fk('commands', 'device_id', 'devices', 'CASCADE')],
    }),
    new Table({
      name: 'macros',
      columns: [
        id(), str('name', 128), text('description', nullable), bool('enabled', flag(true)),
        ms('created_at'), ms('updated_at'),
      ],
      uniques: [unique('macros', 'name', ['name'])],
    }),
    new Table({
      name: 'macro_actions',
      columns: [
        id(), int('macro_id'), int('position'), str('action_type', 16), json('params'), json('condition', nullable),
      ],
      indices: [index('macro_actions', 'macro_position', ['macro_id', 'position'])],
      foreignKeys: [fk('macro_actions', 'macro_id', 'macros', 'CASCADE')],
    }),
    new Table({
      name: 'macro_runs',
      columns: [
        id(), int('macro_id'), str('status', 16, quoted('running')), ms('started_at'), ms('finished_at', nullable),
        str('username', 64, nullable), str('source', 16), int('current_step', { default: '0' }),
        text('message', nullable),
      ],
      indices: [
        index('macro_runs', 'status', ['status']),
        index('macro_runs', 'macro_started_at', ['macro_id', 'started_at']),
      ],
      foreignKeys: [fk('macro_runs', 'macro_id', 'macros', 'CASCADE')],
    }),
    new Table({
      name: 'screens',
      columns: [
        id(), str('name', 64), str('title', 128), str('device_type', 32, nullable),
        int('position', { default: '0' }), bool('enabled', flag(true)),
      ],
    }),
    new Table({
      name: 'screen_items',
      columns: [
        id(), int('screen_id'), str('item_type', 32), str('label', 128), int('position', { default: '0' }),
        int('relay_channel_id', nullable), str('mutex_group', 64, nullable), json('action', nullable),
        json('data_source', nullable), json('style', nullable),
      ],
      indices: [index('screen_items', 'screen_position', ['screen_id', 'position'])],
      foreignKeys: [
        fk('screen_items', 'screen_id', 'screens', 'CASCADE'),
        fk('screen_items', 'relay_channel_id', 'relay_channels', 'SET NULL'),
      ],
    }),
    new Table({
      name: 'themes',
      columns: [
        id(), str('name', 64), bool('is_active', flag(false)), json('colors'), json('fonts', nullable),
        json('device_overrides', nullable), ms('created_at'), ms('updated_at'),
      ],
      uniques: [unique('themes', 'name', ['name'])],
    }),
    new Table({
      name: 'can_signals',
      columns: [
        id(), str('name', 64), int('can_id'), int('start_bit'), int('length'), str('byte_order', 8, quoted('little')),
        bool('is_signed', flag(false)), dbl('scale', { default: '1' }), dbl('offset_value', { default: '0' }),
        str('unit', 16, nullable), dbl('min_value', nullable), dbl('max_value', nullable),
        str('telemetry_key', 64, nullable), int('device_id', nullable), bool('enabled', flag(true)),
      ],
      indices: [index('can_signals', 'can_id', ['can_id'])],
      foreignKeys: [fk('can_signals', 'device_id', 'devices', 'SET NULL')],
    }),
    new Table({
      name: 'users',
      columns: [
        id(), str('username', 64), text('password_hash'), str('role', 16, quoted('viewer')),
        bool('enabled', flag(true)), ms('created_at'), ms('updated_at'), ms('last_login_at', nullable),
      ],
      uniques: [unique('users', 'username', ['username'])],
    }),
    new Table({
      name: 'system_status',
      columns: [str('key', 64, { isPrimary: true }), json('value'), ms('updated_at')],
    }),
    new Table({
      name: 'webhooks',
      columns: [
        id(), text('url'), text('secret'), json('events'), bool('enabled', flag(true)), ms('created_at'),
        int('failure_count', { default: '0' }), ms('circuit_open_until', nullable),
      ],
    }),
    new Table({
      name: 'webhook_deliveries',
      columns: [
        id(), int('webhook_id'), int('event_id', nullable), text('payload'), str('status', 16, quoted('pending')),
        int('attempts', { default: '0' }), ms('next_attempt_at'), text('last_error', nullable),
        ms('created_at'), ms('delivered_at', nullable),
      ],
      indices: [
        index('webhook_deliveries', 'status_next_attempt_at', ['status', 'next_attempt_at']),
        index('webhook_deliveries', 'webhook_id', ['webhook_id']),
      ],
      foreignKeys: [fk('webhook_deliveries', 'webhook_id', 'webhooks', 'CASCADE')],
    }),
  ]
}

/** Boolean defaults are the one literal the drivers spell differently (and compare textually). */
function booleanDefault (queryRunner: QueryRunner): (value: boolean) => Extra {
  const postgres = queryRunner.connection.driver.options.type === 'postgres'
  return (value) => ({ default: postgres ? String(value) : value ? '1' : '0' })
}

export class InitialSchema1732300000000 implements MigrationInterface {
  name = 'InitialSchema1732300000000'

  async up (queryRunner: QueryRunner): Promise<void> {
    for (const table of schema(booleanDefault(queryRunner))) {
      await queryRunner.createTable(table, true)
    }
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    for (const table of schema(booleanDefault(queryRunner)).reverse()) {
      await queryRunner.dropTable(table.name, true)
    }
  }
}

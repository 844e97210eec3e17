import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm'

const column = (): TableColumn =>
  new TableColumn({ name: 'min_level', type: 'varchar', length: '16', default: '\'info\'' })

// A webhook's event filter gains a minimum level (README "Webhooks"). On SQLite a plain ADD/DROP COLUMN:
// TypeORM's addColumn rebuilds the table there, and dropping `webhooks` with foreign keys on would
// cascade-delete every queued delivery. On PostgreSQL addColumn is that plain ALTER, in the configured schema.
export class WebhookMinLevel1732400000000 implements MigrationInterface {
  name = 'WebhookMinLevel1732400000000'

  async up (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.addColumn('webhooks', column())
    else {
      await queryRunner.query('ALTER TABLE "webhooks" ADD COLUMN "min_level" varchar(16) NOT NULL DEFAULT ' +
      '(\'info\')')
    }
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.dropColumn('webhooks', 'min_level')
    else await queryRunner.query('ALTER TABLE "webhooks" DROP COLUMN "min_level"')
  }
}

function isPostgres (queryRunner: QueryRunner): boolean {
  return queryRunner.connection.driver.options.type === 'postgres'
}

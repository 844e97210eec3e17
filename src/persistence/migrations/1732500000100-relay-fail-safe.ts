import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm'

const column = (): TableColumn =>
  new TableColumn({ name: 'fail_safe', type: 'varchar', length: '8', default: '\'hold\'' })

// A relay channel's fail-safe (issue 14, README "Gateway heartbeat"): 'off' = the board turns it off by itself when
// the gateway's heartbeat stops; 'hold' (every existing channel) = it keeps its state. As in the webhook min_level
// migration: on SQLite a plain ADD/DROP COLUMN (TypeORM's addColumn would rebuild the table, and with foreign keys
// on, dropping `relay_channels` cascades); on PostgreSQL addColumn is that plain ALTER.
export class RelayFailSafe1732500000100 implements MigrationInterface {
  name = 'RelayFailSafe1732500000100'

  async up (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.addColumn('relay_channels', column())
    else {
      await queryRunner.query('ALTER TABLE "relay_channels" ADD COLUMN "fail_safe" varchar(8) NOT NULL DEFAULT ' +
      '(\'hold\')')
    }
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.dropColumn('relay_channels', 'fail_safe')
    else await queryRunner.query('ALTER TABLE "relay_channels" DROP COLUMN "fail_safe"')
  }
}

function isPostgres (queryRunner: QueryRunner): boolean {
  return queryRunner.connection.driver.options.type === 'postgres'
}

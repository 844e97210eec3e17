import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm'

const column = (): TableColumn => new TableColumn({ name: 'token_version', type: 'integer', default: 0 })

// A user's login tokens carry the account's token version; a password change, a new role or a disable bumps it,
// so every token issued before stops working (#13, revocation). Plain ADD COLUMN on SQLite (see
// 1732400000000-webhook-min-level.ts for why not addColumn there).
export class UserTokenVersion1732500000000 implements MigrationInterface {
  name = 'UserTokenVersion1732500000000'

  async up (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.addColumn('users', column())
    else await queryRunner.query('ALTER TABLE "users" ADD COLUMN "token_version" integer NOT NULL DEFAULT (0)')
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.dropColumn('users', 'token_version')
    else await queryRunner.query('ALTER TABLE "users" DROP COLUMN "token_version"')
  }
}

function isPostgres (queryRunner: QueryRunner): boolean {
  return queryRunner.connection.driver.options.type === 'postgres'
}

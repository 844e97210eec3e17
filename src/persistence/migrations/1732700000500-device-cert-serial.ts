import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm'

const column = (): TableColumn =>
  new TableColumn({ name: 'cert_serial', type: 'varchar', length: '64', isNullable: true })

// The serial number of the one client certificate a device may connect with (#17, mutual TLS): `device add --cert`
// and `device cert` record it, issuing a new one replaces it, `device revoke-cert` clears it. A certificate whose
// serial is not the device's current one is refused, even though the gateway CA signed it. Plain ADD COLUMN on
// SQLite (see 1732400000000-webhook-min-level.ts for why not addColumn there).
export class DeviceCertSerial1732700000500 implements MigrationInterface {
  name = 'DeviceCertSerial1732700000500'

  async up (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.addColumn('devices', column())
    else await queryRunner.query('ALTER TABLE "devices" ADD COLUMN "cert_serial" varchar(64)')
  }

  async down (queryRunner: QueryRunner): Promise<void> {
    if (isPostgres(queryRunner)) await queryRunner.dropColumn('devices', 'cert_serial')
    else await queryRunner.query('ALTER TABLE "devices" DROP COLUMN "cert_serial"')
  }
}

function isPostgres (queryRunner: QueryRunner): boolean {
  return queryRunner.connection.driver.options.type === 'postgres'
}

import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { DataSource } from 'typeorm'
import { CanSignal, Device, Macro, MacroAction, SystemStatus, TelemetryData, entities } from '../../entities/index.js'
import { migrations } from '../../src/persistence/migrations/index.js'

const TABLES = [
  'devices', 'telemetry_data', 'telemetry_aggregates', 'event_logs', 'relay_channels', 'commands',
  'macros', 'macro_actions', 'macro_runs', 'screens', 'screen_items', 'themes', 'can_signals',
  'users', 'system_status', 'webhooks', 'webhook_deliveries',
  'device_tombstones',
]
// Past 2^32, and PostgreSQL returns int8 as a string unless the transformer converts it.
const NOW = 1_732_300_000_123
const url = process.env.AUTOCORE_TEST_PG_URL

async function existingTables (ds: DataSource): Promise<string[]> {
  const qr = ds.createQueryRunner()
  try {
    const found: string[] = []
    for (const name of TABLES) if (await qr.hasTable(name)) found.push(name)
    return found
  } finally {
    await qr.release()
  }
}

if (url === undefined || url === '') {
  // Deliberately a pass, not a skip: without a server there is nothing to check, and .ci/run always provides one.
  t.pass('AUTOCORE_TEST_PG_URL is unset: the PostgreSQL migration checks need a server and did not run')
} else {
  t.test('initial migration on PostgreSQL', async (t) => {
    // A throwaway schema per run, so parallel runs and leftovers never collide.
    const schema = `autocore_test_${randomBytes(4).toString('hex')}`
    const admin = new DataSource({ type: 'postgres', url })
    await admin.initialize()
    t.teardown(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await admin.destroy()
    })
    await admin.query(`CREATE SCHEMA "${schema}"`)

    const ds = new DataSource({ type: 'postgres', url, schema, entities, migrations, synchronize: false })
    t.teardown(async () => { if (ds.isInitialized) await ds.destroy() })
    await ds.initialize()

    const applied = await ds.runMigrations({ transaction: 'each' })
    t.same(applied.map((m) => m.name), migrations.map((M) => new M().name), 'every migration, in order')
    t.same(await existingTables(ds), TABLES, 'every table exists')

    const diff = await ds.driver.createSchemaBuilder().log()
    t.same(diff.upQueries.map((q) => q.query), [], 'entities and migration agree (empty schema diff)')

    const { identifiers } = await ds.getRepository(Device).insert({
      uuid: 'esp32-001',
      name: 'Relay board',
      type: 'relay_board',
      config: { channels: 16 },
      lastSeen: NOW,
      createdAt: NOW,
      updatedAt: NOW,
    })
    const deviceId = identifiers[0]!.id as number
    const device = await ds.getRepository(Device).findOneByOrFail({ id: deviceId })
    t.same([device.status, device.enabled, device.configVersion], ['offline', true, 0], 'defaults apply')
    t.equal(device.lastSeen, NOW, 'bigint epoch ms hydrates as a number, not a string')
    t.same(device.config, { channels: 16 }, 'simple-json round-trips')

    await ds.getRepository(TelemetryData).insert({ deviceId, key: 'temp', value: 21.5, ts: NOW })
    const reading = await ds.getRepository(TelemetryData).findOneByOrFail({ deviceId, key: 'temp' })
    t.same([reading.value, reading.ts], [21.5, NOW], 'double precision and bigint hydrate as numbers')

    // 0.1 loses digits in a 4-byte real; an 8-byte double keeps it exactly.
    await ds.getRepository(CanSignal).insert({ name: 'rpm', canId: 0x0c0, startBit: 0, length: 16, scale: 0.1 })
    const signal = await ds.getRepository(CanSignal).findOneByOrFail({ name: 'rpm' })
    t.same([signal.scale, signal.offset, signal.isSigned], [0.1, 0, false])

    await ds.getRepository(SystemStatus).insert({ key: 'emergency', value: { active: false }, updatedAt: NOW })
    t.same((await ds.getRepository(SystemStatus).findOneByOrFail({ key: 'emergency' })).value, { active: false })

    const macro = await ds.getRepository(Macro).save({ name: 'lights', createdAt: NOW, updatedAt: NOW })
    await ds
      .getRepository(MacroAction)
      .insert({ macroId: macro.id, position: 1, actionType: 'delay', params: { ms: 1 } })
    await ds.getRepository(Macro).delete(macro.id)
    t.equal(await ds.getRepository(MacroAction).countBy({ macroId: macro.id }), 0, 'actions cascade with their macro')

    for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' })
    t.same(await existingTables(ds), [], 'down() drops every table')
  })
}

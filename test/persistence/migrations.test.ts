import 'reflect-metadata'
import t from 'tap'
import { DataSource } from 'typeorm'
import {
  CanSignal, Device, EventLog, Macro, MacroAction, SystemStatus, TelemetryData, entities,
} from '../../entities/index.js'
import { migrations } from '../../src/persistence/migrations/index.js'

const TABLES = [
  'devices', 'telemetry_data', 'telemetry_aggregates', 'event_logs', 'relay_channels', 'commands',
  'macros', 'macro_actions', 'macro_runs', 'screens', 'screen_items', 'themes', 'can_signals',
  'users', 'system_status', 'webhooks', 'webhook_deliveries',
  'device_tombstones',
]
// Past 2^32, so a 32-bit column or a string hydration would show.
const NOW = 1_732_300_000_123

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

t.test('initial migration on SQLite', async (t) => {
  const ds = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities, migrations, synchronize: false })
  t.teardown(async () => { if (ds.isInitialized) await ds.destroy() })
  await ds.initialize()

  const applied = await ds.runMigrations()
  t.same(applied.map((m) => m.name), migrations.map((M) => new M().name), 'every migration, in order')
  t.same(await existingTables(ds), TABLES, 'every table exists')

  const diff = await ds.driver.createSchemaBuilder().log()
  t.same(diff.upQueries.map((q) => q.query), [], 'entities and migration agree (empty schema diff)')

  const devices = ds.getRepository(Device)
  const { identifiers } = await devices.insert({
    uuid: 'esp32-001',
    name: 'Relay board',
    type: 'relay_board',
    capabilities: ['relays'],
    config: { channels: 16, labels: { 1: 'lights' } },
    lastSeen: NOW,
    createdAt: NOW,
    updatedAt: NOW,
  })
  const deviceId = identifiers[0]!.id as number
  const device = await devices.findOneByOrFail({ id: deviceId })
  t.equal(device.status, 'offline', 'status defaults to offline')
  t.equal(device.enabled, true, 'boolean default hydrates as true')
  t.equal(device.configVersion, 0)
  t.equal(device.lastSeen, NOW, 'epoch ms hydrates as a number')
  t.equal(typeof device.createdAt, 'number')
  t.same(device.config, { channels: 16, labels: { 1: 'lights' } }, 'simple-json round-trips')
  t.same(device.capabilities, ['relays'])

  await ds.getRepository(TelemetryData).insert({ deviceId, key: 'temp', value: 21.5, unit: 'C', ts: NOW })
  const reading = await ds.getRepository(TelemetryData).findOneByOrFail({ deviceId, key: 'temp' })
  t.equal(reading.value, 21.5, 'double precision keeps the fraction')
  t.equal(reading.ts, NOW)
  t.equal(reading.dataType, 'number')

  await ds.getRepository(EventLog).insert({
    ts: NOW,
    level: 'critical',
    eventType: 'emergency_stop',
    source: 'api',
    username: 'admin',
    payload: { reason: 'test' }
  })
  const event = await ds.getRepository(EventLog).findOneByOrFail({ eventType: 'emergency_stop' })
  t.same([event.username, event.payload, event.ts], ['admin', { reason: 'test' }, NOW])

  await ds
    .getRepository(CanSignal)
    .insert({ name: 'rpm', canId: 0x0c0, startBit: 0, length: 16, scale: 0.25, deviceId })
  const signal = await ds.getRepository(CanSignal).findOneByOrFail({ name: 'rpm' })
  t.same([signal.scale, signal.offset, signal.byteOrder, signal.isSigned], [0.25, 0, 'little', false])

  await ds.getRepository(SystemStatus).insert({ key: 'emergency', value: { active: true, since: NOW }, updatedAt: NOW })
  const emergency = await ds.getRepository(SystemStatus).findOneByOrFail({ key: 'emergency' })
  t.same(emergency.value, { active: true, since: NOW })

  const macro = await ds.getRepository(Macro).save({ name: 'lights', createdAt: NOW, updatedAt: NOW })
  await ds.getRepository(MacroAction).insert([
    { macroId: macro.id, position: 2, actionType: 'delay', params: { ms: 500 } },
    { macroId: macro.id, position: 1, actionType: 'relay', params: { channel: 1, action: 'on' } },
  ])
  const loaded = await ds.getRepository(Macro).findOneOrFail({
    where: { id: macro.id }, relations: { actions: true }, order: { actions: { position: 'ASC' } },
  })
  t.same(loaded.actions?.map((a) => a.actionType), ['relay', 'delay'], 'relation loads by the plain FK id')
  await ds.getRepository(Macro).delete(macro.id)
  t.equal(await ds.getRepository(MacroAction).countBy({ macroId: macro.id }), 0, 'actions cascade with their macro')

  for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration()
  t.same(await existingTables(ds), [], 'down() drops every table')
})

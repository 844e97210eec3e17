import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { parseDbc } from '../../src/cli/dbc.js'
import { startApp } from '../helpers/app.js'
import { deviceClient, provisionDevice } from '../helpers/devices.js'
import { waitFor } from '../helpers/mqtt.js'
import { topicOf } from '../../src/protocol/index.js'

// A DBC as Vector's tools write it: header sections, an extended-id J1939 message (bit 31 set), Motorola
// signals, a multiplexed message, comments and value tables (ignored).
const DBC = `VERSION ""


NS_ :
\tCM_
\tBA_DEF_
\tVAL_

BS_:

BU_: ECU1 GW


BO_ 2364540158 EEC1: 8 ECU1
 SG_ EngineSpeed : 24|16@1+ (0.125,0) [0|8031.875] "rpm" GW
 SG_ EngineTorqueMode : 0|4@1+ (1,0) [0|15] "" GW

BO_ 1024 BatteryStatus: 8 ECU1
 SG_ PackVoltage : 7|16@0+ (0.01,0) [0|655.35] "V" GW
 SG_ PackCurrent : 23|16@0- (0.1,-0) [-3276.8|3276.7] "A" GW
 SG_ CellTemp : 39|8@0- (1,0) [0|0] "degC"  GW

BO_ 1280 Muxed: 8 ECU1
 SG_ Mux M : 0|8@1+ (1,0) [0|0] "" GW
 SG_ SigA m0 : 8|16@1+ (1,0) [0|0] "" GW

CM_ SG_ 2364540158 EngineSpeed "Actual engine speed";
BA_DEF_ BO_  "GenMsgCycleTime" INT 0 65535;
VAL_ 2364540158 EngineTorqueMode 0 "Low idle" 1 "Accelerator pedal" ;
`

function io (env: Record<string, string>): {
  env: Record<string, string>
  out: (l: string) => void
  err: (l: string) => void
  lines: string[]
  errors: string[]
} {
  const lines: string[] = []
  const errors: string[] = []
  return { env, out: l => lines.push(l), err: l => errors.push(l), lines, errors }
}
const noSignals = { once: () => {} }

t.test('parseDbc reads messages and signals, extended ids, byte order, sign, scale/offset, ranges, units', async t => {
  const dbc = parseDbc(DBC)
  t.same(
    dbc.messages.map(m => [m.id, m.name, m.dlc, m.signals.length]),
    [
      [0x0cf004fe, 'EEC1', 8, 2],
      [1024, 'BatteryStatus', 8, 3],
      [1280, 'Muxed', 8, 1]
    ]
  )
  t.same(dbc.messages[0].signals[0], {
    name: 'EngineSpeed',
    canId: 0x0cf004fe,
    startBit: 24,
    length: 16,
    byteOrder: 'little',
    isSigned: false,
    scale: 0.125,
    offset: 0,
    unit: 'rpm',
    min: 0,
    max: 8031.875
  })
  t.match(dbc.messages[1].signals[1], {
    name: 'PackCurrent',
    startBit: 23,
    byteOrder: 'big',
    isSigned: true,
    scale: 0.1,
    offset: -0,
    min: -3276.8,
    max: 3276.7,
    unit: 'A'
  })
  t.match(dbc.messages[1].signals[2], { name: 'CellTemp', min: null, max: null, unit: 'degC' })
  t.match(dbc.messages[0].signals[1], { unit: null })
  t.same(dbc.skipped, [{ message: 'Muxed', signal: 'SigA', reason: 'multiplexed' }])
  t.throws(() => parseDbc('BO_ 12 X: 8 N\n SG_ Bad : 1|x@1+ (1,0) [0|0] "" N\n'), {
    code: 'GW_ERR_CAN_DBC_INVALID',
    message: /line 2: malformed SG_/
  })
  t.throws(() => parseDbc('BO_ 12 X: 8 N\n SG_ S : 1|8@1+ (1e,0) [0|0] "" N\n'), {
    code: 'GW_ERR_CAN_DBC_INVALID',
    message: /line 2: scale is not a number/
  })
  t.throws(() => parseDbc(' SG_ S : 1|8@1+ (1,0) [0|0] "" N\n'), { message: /SG_ outside a BO_/ })
  t.throws(() => parseDbc('BO_ x Y\n'), { message: /line 1: malformed BO_/ })
})

t.test('can import writes can_signals; the gateway decodes CAN frames into telemetry with them', async t => {
  // One testdir per test: the DBC files and the gateway's data dir side by side.
  const dir = t.testdir({ 'car.dbc': DBC, 'bad.dbc': 'BO_ 1 X: 8 N\n SG_ nope\n', data: {} })
  const app = await startApp(t, { dataDir: `${dir}/data` })
  const env = { AUTOCORE_DATA_DIR: app.config.dataDir }

  const dry = io(env)
  t.equal(await runCli(['node', 'autocore-gateway', 'can', 'import', `${dir}/car.dbc`, '--dry-run'], dry, noSignals), 0)
  t.same(dry.lines, [`${dir}/car.dbc: 3 messages, 6 signals (dry run, nothing written)`])

  const bad = io(env)
  t.equal(await runCli(['node', 'autocore-gateway', 'can', 'import', `${dir}/bad.dbc`], bad, noSignals), 1)
  t.match(bad.errors[0], /line 2: malformed SG_.*GW_ERR_CAN_DBC_INVALID/)
  const missing = io(env)
  t.equal(await runCli(['node', 'autocore-gateway', 'can', 'import', `${dir}/none.dbc`], missing, noSignals), 1)
  const noDevice = io(env)
  t.equal(
    await runCli(
      ['node', 'autocore-gateway', 'can', 'import', `${dir}/car.dbc`, '--device', 'nobody'],
      noDevice,
      noSignals
    ),
    1
  )
  t.same(noDevice.errors, ['skipped Muxed.SigA: multiplexed', 'no device nobody'])

  const cli = io(env)
  t.equal(
    await runCli(['node', 'autocore-gateway', 'can', 'import', `${dir}/car.dbc`], cli, noSignals),
    0,
    cli.errors.join('\n')
  )
  t.same(cli.lines, [`${dir}/car.dbc: 3 messages, 6 signals (6 new, 0 updated)`])
  const again = io(env)
  await runCli(['node', 'autocore-gateway', 'can', 'import', `${dir}/car.dbc`], again, noSignals)
  t.same(again.lines, [`${dir}/car.dbc: 3 messages, 6 signals (0 new, 6 updated)`], 'idempotent')

  const { client, uuid } = await deviceClient(t, app, { type: 'can_bridge' })
  const other = await provisionDevice(app)
  const invalid: string[] = []
  app.gateway.services.bus.on('mqtt.payload_invalid', e => invalid.push(e.reason))
  await client.publishAsync(topicOf('canData', { uuid }), JSON.stringify({
    ts: 1767225600000,
    frames: [
      // EngineSpeed bytes 3-4 LE = 0x1F40 → 1000 rpm; torque mode = low nibble of byte 0 = 3.
      { id: 0x0CF004FE, data: 'F30000401FFFFFFF' },
      // PackVoltage 0x04B0 × 0.01 = 12 V; PackCurrent 0xFF9C = -100 × 0.1 = -10 A; CellTemp 0xEC = -20.
      { id: 1024, data: '04B0FF9CEC000000' },
      // EngineSpeed 0xFFFF × 0.125 = 8191.875, above the DBC range: not stored; torque mode 0.
      { id: 0x0CF004FE, data: '000000FFFF000000' },
      { id: 999, data: '00' }
    ]
  }), { qos: 0 })
  // Schema violations (data not whole hex bytes; frames not an array; a string id; an id over 29 bits): the
  // payload guard drops the whole message, so the CAN step never sees it.
  await client.publishAsync(
    topicOf('canData', { uuid }),
    '{"frames":[{"id":1024,"data":"04B0FF9CEC000000"},{"id":1024,"data":"zz"}]}',
    { qos: 0 }
  )
  await client.publishAsync(topicOf('canData', { uuid }), '{"frames":"nope"}', { qos: 0 })
  await client.publishAsync(topicOf('canData', { uuid }), '{"frames":[{"id":"0x400","data":"00"}]}', { qos: 0 })
  await client.publishAsync(topicOf('canData', { uuid }), '{"frames":[{"id":536870912,"data":"00"}]}', { qos: 0 })
  await waitFor(() => app.gateway.services.telemetry.state().written >= 6 && invalid.length === 4)
  t.equal(invalid.length, 4, 'dropped by the payload guard')
  t.equal(app.gateway.services.telemetry.state().refused, 0, 'nothing reached the CAN step that it had to refuse')
  const rows = await app.gateway.services.db.dataSource.query(
    'SELECT key, value, unit, ts FROM telemetry_data ORDER BY id'
  )
  t.same(rows.map((r: any) => [r.key, r.value, r.unit, r.ts]), [
    ['EngineSpeed', 1000, 'rpm', 1767225600000],
    ['EngineTorqueMode', 3, null, 1767225600000],
    ['PackVoltage', 12, 'V', 1767225600000],
    ['PackCurrent', -10, 'A', 1767225600000],
    ['CellTemp', -20, 'degC', 1767225600000],
    ['EngineTorqueMode', 0, null, 1767225600000]
  ])

  // Frames on another device's topic: an ACL violation, the connection is closed, nothing decoded.
  const closed = new Promise(resolve => client.once('close', resolve))
  client.publish(topicOf('canData', { uuid: other.uuid }), '{"frames":[{"id":1024,"data":"04B0FF9CEC000000"}]}', {
    qos: 0
  })
  await closed
  t.equal(client.connected, false)
  t.equal(app.gateway.services.telemetry.state().refused, 0)
  t.equal((await app.gateway.services.db.dataSource.query('SELECT count(*) AS n FROM telemetry_data'))[0].n, 6)
})

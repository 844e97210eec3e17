import t from 'tap'
import { checkPayload } from '../../src/protocol/validate.js'
import { familyTopic, parseTopic } from '../../src/protocol/index.js'

const ok = (family: Parameters<typeof checkPayload>[0], v: unknown): boolean =>
  checkPayload(family, Buffer.from(JSON.stringify(v))) === undefined

t.test('payload schemas per family', async t => {
  t.ok(ok('deviceAnnounce', { type: 'relay_board', firmware: '1.0', mac: 'AA:BB:CC:DD:EE:FF', capabilities: ['x'] }))
  t.notOk(ok('deviceAnnounce', { name: 'no type' }))
  t.ok(ok('deviceStatus', { status: 'online', rssi: -60 }))
  t.notOk(ok('deviceStatus', { status: 'maybe' }))
  t.ok(ok('deviceStatus', { status: 'online', config_version: 3 }), 'status may carry the applied config version')
  t.notOk(ok('deviceStatus', { status: 'online', config_version: 1.5 }))
  t.notOk(ok('deviceStatus', { status: 'online', config_version: -1 }))
  t.ok(ok('deviceTelemetry', { temp: 21.5, door: true, hum: { value: 40, unit: '%' }, ts: 1700000000 }))
  t.notOk(ok('deviceTelemetry', {}))
  t.notOk(ok('deviceTelemetry', [1, 2]))
  t.ok(ok('deviceResponse', { command_id: 'c1', status: 'ok' }))
  t.ok(ok('relayState', { channels: { 1: true, 16: false } }))
  t.notOk(ok('relayState', { channels: { one: true } }))
  t.ok(ok('canData', { frames: [{ id: 291, data: '0102ff' }] }))
  t.notOk(ok('canData', { frames: [{ id: 291, data: 'xyz' }] }))
  t.ok(ok('relaySet', { channel: 1, action: 'pulse', duration_ms: 500 }))
  t.notOk(ok('relaySet', { channel: 0, action: 'on' }))
  t.equal(checkPayload('deviceStatus', Buffer.from('{')), 'payload is not valid JSON')
  t.match(
    checkPayload('deviceStatus', Buffer.from('{"status":"x"}')),
    /^payload \/status must be equal to one of the allowed values$/
  )
  t.equal(checkPayload('health', Buffer.from('anything')), undefined, 'families without a schema are only size-checked')
})

t.test('topics parse into their family and back', async t => {
  t.same(parseTopic('autocore/devices/esp32-001/config/request'), {
    family: 'deviceConfigRequest',
    params: { uuid: 'esp32-001' }
  })
  t.same(parseTopic('autocore/devices/esp32-001/error/gateway'), {
    family: 'deviceGatewayError',
    params: { uuid: 'esp32-001' }
  })
  t.equal(parseTopic('autocore/devices/+/status'), undefined)
  t.equal(parseTopic('veh/x'), undefined)
  t.equal(familyTopic('relaySet', { uuid: 'r1' }), 'autocore/relays/r1/set')
  t.equal(familyTopic('deviceStatus'), 'autocore/devices/+/status')
})

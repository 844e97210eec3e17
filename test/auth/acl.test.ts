import t from 'tap'
import { authorize, mayRead, type AclRule } from '../../src/auth/acl.js'
import type { Principal } from '../../src/auth/principal.js'

// Every principal speaks for "esp32-own": the device's UUID, the other identities' client id.
const OWN = 'esp32-own'
const OTHER = 'esp32-other'
const device = (deviceType: string, capabilities: string[], display = false): Principal => ({
  kind: 'device',
  clientId: OWN,
  uuid: OWN,
  deviceType,
  capabilities,
  display
})
const principals: Record<string, Principal> = {
  dev: device('relay_board', []),
  btn: device('emergency_button', ['emergency_button']),
  disp: device('display', [], true),
  pend: { ...device('sensor', []), pending: { secretHash: 'x' } } as Principal,
  viewer: { kind: 'user', clientId: OWN, username: 'v', role: 'viewer' },
  oper: { kind: 'user', clientId: OWN, username: 'o', role: 'operator' },
  admin: { kind: 'user', clientId: OWN, username: 'a', role: 'admin' },
  health: { kind: 'health', clientId: OWN, username: 'autocore-health' },
  anon: { kind: 'anonymous', clientId: OWN }
}
const ALL = Object.keys(principals)
const DEVICES = 'dev btn disp'
const USERS = 'viewer oper admin'

// [topic, retain, who may publish, who may subscribe]: SPEC §3 as a table.
const table: Array<[string, boolean, string, string]> = [
  [`autocore/devices/${OWN}/announce`, false, `${DEVICES} pend`, USERS],
  [`autocore/devices/${OTHER}/announce`, false, '', USERS],
  [`autocore/devices/${OWN}/status`, false, `${DEVICES} pend`, `disp ${USERS}`],
  [`autocore/devices/${OWN}/status`, true, `${DEVICES} pend`, `disp ${USERS}`],
  [`autocore/devices/${OTHER}/status`, false, '', `disp ${USERS}`],
  [`autocore/devices/${OWN}/telemetry`, false, DEVICES, `disp ${USERS}`],
  [`autocore/devices/${OWN}/telemetry`, true, '', `disp ${USERS}`],
  [`autocore/devices/${OTHER}/telemetry`, false, '', `disp ${USERS}`],
  [`autocore/telemetry/${OWN}/data`, false, DEVICES, `disp ${USERS}`],
  [`autocore/telemetry/${OTHER}/data`, false, '', `disp ${USERS}`],
  [`autocore/devices/${OWN}/response`, false, DEVICES, USERS],
  [`autocore/devices/${OWN}/error`, false, DEVICES, USERS],
  [`autocore/devices/${OWN}/config/request`, false, DEVICES, USERS],
  [`autocore/relays/${OWN}/state`, true, DEVICES, `disp ${USERS}`],
  [`autocore/relays/${OTHER}/state`, false, '', `disp ${USERS}`],
  [`autocore/can/${OWN}/data`, false, DEVICES, USERS],
  [`autocore/can/${OWN}/data`, true, '', USERS],
  [`autocore/devices/${OWN}/command`, false, 'admin', `${DEVICES} admin`],
  [`autocore/devices/${OTHER}/command`, false, 'admin', 'admin'],
  [`autocore/relays/${OWN}/command`, false, 'admin', `${DEVICES} admin`],
  [`autocore/relays/${OTHER}/command`, false, 'admin', 'admin'],
  [`autocore/devices/${OWN}/config`, false, 'admin', `${DEVICES} ${USERS}`],
  [`autocore/devices/${OTHER}/config`, true, 'admin', USERS],
  [`autocore/devices/${OWN}/error/gateway`, false, 'admin', `${DEVICES} pend ${USERS}`],
  [`autocore/devices/${OTHER}/error/gateway`, false, 'admin', USERS],
  ['autocore/config/theme', true, 'admin', `${DEVICES} ${USERS}`],
  ['autocore/config/screens/1', true, 'admin', `${DEVICES} ${USERS}`],
  ['autocore/config/screens/+', false, '', `${DEVICES} ${USERS}`],
  ['autocore/config/update', false, 'admin', `${DEVICES} ${USERS}`],
  ['autocore/emergency/state', true, 'admin', `${DEVICES} ${USERS}`],
  ['autocore/emergency/stop', false, 'btn oper admin', `${DEVICES} ${USERS}`],
  ['autocore/emergency/stop', true, 'admin', `${DEVICES} ${USERS}`],
  ['autocore/emergency/reset', false, 'admin', `${DEVICES} ${USERS}`],
  ['autocore/gateway/gw-1/status', true, 'admin', `${DEVICES} ${USERS} health`],
  ['autocore/events/device_connected', false, 'admin', USERS],
  [`autocore/relays/${OWN}/set`, false, 'oper admin', 'admin'],
  [`autocore/relays/${OTHER}/set`, true, 'admin', 'admin'],
  ['autocore/macros/m1/run', false, 'oper admin', 'admin'],
  [`autocore/health/${OWN}`, false, 'health admin', 'health admin'],
  ['autocore/health/someone-else', false, 'admin', 'admin'],
  ['autocore/unknown/thing', false, 'admin', 'admin'],
  // wildcard subscriptions: granted when the identity may read some of what they cover (Mosquitto)
  ['#', false, '', `${DEVICES} pend ${USERS} health`],
  ['$SYS/#', false, '', 'admin'],
  ['autocore/#', false, '', `${DEVICES} pend ${USERS} health`],
  ['+/devices/+/status', false, '', `disp ${USERS}`],
  ['autocore/devices/+/command', false, '', `${DEVICES} admin`],
  ['autocore/devices/+/status', false, '', `disp ${USERS}`],
  ['autocore/devices/+/+', false, '', `${DEVICES} ${USERS}`],
  ['autocore/relays/+/set', false, '', 'admin'],
  ['autocore/health/#', false, '', 'health admin'],
  ['autocore/config/#', false, '', `${DEVICES} ${USERS}`],
  ['autocore/emergency/+', false, '', `${DEVICES} ${USERS}`],
  ['autocore/events/#', false, '', USERS],
  // reserved and outside autocore/ (no acl.rules)
  ['$SYS/broker/clients', false, '', 'admin'],
  ['$autocore/dropped', false, '', ''],
  ['veh/x', false, 'admin', 'admin']
]

for (const [topic, retain, publishers, subscribers] of table) {
  t.test(`${topic}${retain ? ' (retained)' : ''}`, async t => {
    const pubs = new Set(publishers.split(' ').filter(Boolean))
    const subs = new Set(subscribers.split(' ').filter(Boolean))
    for (const who of ALL) {
      const isFilter = topic.includes('+') || topic.includes('#')
      if (!isFilter) {
        t.equal(authorize(principals[who], 'publish', topic, retain).allow, pubs.has(who), `${who} publish`)
      }
      if (!retain) t.equal(authorize(principals[who], 'subscribe', topic).allow, subs.has(who), `${who} subscribe`)
      if (!retain && !isFilter) t.equal(mayRead(principals[who], topic), subs.has(who), `${who} reads`)
    }
  })
}

t.test('acl.rules outside autocore/: order, %c/%u, role/user/client, default deny', async t => {
  const rules: AclRule[] = [
    { effect: 'deny', action: 'both', topic: 'veh/secret/#' },
    { effect: 'allow', action: 'both', topic: 'veh/%c/#', role: 'anonymous' },
    { effect: 'allow', action: 'subscribe', topic: 'veh/#', role: 'viewer' },
    { effect: 'allow', action: 'publish', topic: 'gps/%u', role: 'device' },
    { effect: 'allow', action: 'publish', topic: 'cam/#', user: 'o' },
    { effect: 'allow', action: 'both', topic: 'obd/#', client: 'obd-*' }
  ]
  const anon = principals.anon
  const cases: Array<[Principal, 'publish' | 'subscribe', string, boolean]> = [
    [anon, 'publish', `veh/${OWN}/speed`, true],
    [anon, 'subscribe', `veh/${OWN}/#`, true],
    [anon, 'publish', `veh/${OTHER}/speed`, false],
    [anon, 'subscribe', 'veh/#', true], // covers veh/esp32-own/#, which it may read
    [{ kind: 'anonymous', clientId: 'a/#' }, 'subscribe', 'veh/a/#', false],
    [principals.viewer, 'subscribe', 'veh/#', true], // granted; veh/secret/... is never forwarded (mayRead below)
    [principals.viewer, 'subscribe', 'veh/secret/#', false], // covered by the deny
    [principals.viewer, 'subscribe', 'veh/speed/#', true],
    [principals.viewer, 'publish', 'veh/speed', false],
    [principals.dev, 'publish', `gps/${OWN}`, true],
    [principals.dev, 'publish', `gps/${OTHER}`, false],
    [principals.oper, 'publish', 'cam/1', true],
    [principals.viewer, 'publish', 'cam/1', false],
    [{ kind: 'anonymous', clientId: 'obd-7' }, 'subscribe', 'obd/rpm', true],
    [anon, 'subscribe', 'obd/rpm', false],
    [anon, 'subscribe', 'autocore/#', false],
    [anon, 'publish', `veh/secret/${OWN}`, false],
    [principals.health, 'publish', 'other/x', false]
  ]
  for (const [p, action, topic, allow] of cases) {
    t.equal(authorize(p, action, topic, false, rules).allow, allow, `${p.kind}/${p.clientId} ${action} ${topic}`)
  }
  const reads: Array<[Principal, string, boolean]> = [
    [principals.viewer, 'veh/speed', true],
    [principals.viewer, 'veh/secret/x', false],
    [anon, `veh/${OWN}/speed`, true],
    [anon, `veh/${OTHER}/speed`, false],
    [anon, `veh/secret/${OWN}`, false],
    [anon, 'obd/rpm', false]
  ]
  for (const [p, topic, allow] of reads) {
    t.equal(mayRead(p, topic, rules), allow, `${p.kind}/${p.clientId} reads ${topic}`)
  }
  const everything: AclRule[] = [{ effect: 'allow', action: 'both', topic: '#' }]
  t.equal(
    authorize(anon, 'subscribe', '#', false, everything).allow,
    true,
    '# is granted when a rule lets it read something'
  )
  t.equal(mayRead(anon, 'autocore/relays/x/command', everything), false, 'but acl.rules never open autocore/ topics')
  t.equal(mayRead(anon, '$SYS/broker/clients', everything), false, 'nor $SYS')
  t.equal(authorize(anon, 'subscribe', '$SYS/#', false, everything).allow, false)
})

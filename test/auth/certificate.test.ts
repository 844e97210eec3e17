import t from 'tap'
import { Authenticator, type DeviceRecord } from '../../src/auth/authenticate.js'
import { FailureLimiter } from '../../src/auth/failure-limiter.js'
import { hashSecret } from '../../src/auth/passwords.js'
import { FakeClock } from '../helpers/fake-clock.js'

// #17: a device proven by a client certificate (credentials.certificateUuid, set by the broker from a TLS socket
// that verified it) goes through the same CONNECT decision as one with its secret. Table-driven, no broker.

const pw = (s: string): Buffer => Buffer.from(s)

t.test('a certificate\'s device UUID: the right principal or CONNACK code', async t => {
  const clock = new FakeClock()
  const hash = await hashSecret('s3cret')
  const devices: Record<string, DeviceRecord> = {
    'esp32-001': {
      uuid: 'esp32-001',
      type: 'display',
      enabled: true,
      status: 'offline',
      secretHash: hash,
      capabilities: null
    },
    'esp32-off': {
      uuid: 'esp32-off',
      type: 'relay_board',
      enabled: false,
      status: 'offline',
      secretHash: hash,
      capabilities: null
    },
    'esp32-new': {
      uuid: 'esp32-new',
      type: 'sensor',
      enabled: true,
      status: 'pending',
      secretHash: hash,
      capabilities: null
    }
  }
  const auth = new Authenticator({
    policy: { allowAnonymous: false, healthUsername: 'autocore-health', healthToken: 'tok', autoRegister: true },
    findDevice: async uuid => devices[uuid],
    findUser: async () => undefined,
    jwtKey: new Uint8Array(32),
    limiter: new FailureLimiter({ maxFailures: 100, windowMs: 60_000, penaltyMs: 30_000 }, clock),
    clock
  })
  const cases: Array<[string, Parameters<Authenticator['authenticate']>[0], unknown]> = [
    [
      'no username, no password',
      { clientId: 'esp32-001', certificateUuid: 'esp32-001' },
      {
        ok: true,
        principal: { kind: 'device', uuid: 'esp32-001', deviceType: 'display', display: true, secretHash: undefined }
      }
    ],
    [
      'its own UUID as username',
      { clientId: 'esp32-001', username: 'esp32-001', certificateUuid: 'esp32-001' },
      { ok: true, principal: { kind: 'device', uuid: 'esp32-001' } }
    ],
    [
      'a wrong password is not even looked at',
      { clientId: 'esp32-001', username: 'esp32-001', password: pw('nope'), certificateUuid: 'esp32-001' },
      { ok: true }
    ],
    ['another client id', { clientId: 'esp32-002', certificateUuid: 'esp32-001' }, { ok: false, returnCode: 2 }],
    [
      'disabled device',
      { clientId: 'esp32-off', certificateUuid: 'esp32-off' },
      { ok: false, returnCode: 5, reason: 'device disabled' }
    ],
    [
      'pending device',
      { clientId: 'esp32-new', certificateUuid: 'esp32-new' },
      { ok: false, returnCode: 5, reason: 'device pending approval' }
    ],
    [
      'deleted device (no auto-registration by certificate)',
      { clientId: 'esp32-999', certificateUuid: 'esp32-999' },
      { ok: false, returnCode: 4, reason: 'certificate of an unknown device' }
    ],
    [
      'another username: the password way, the certificate ignored',
      { clientId: 'esp32-off', username: 'esp32-off', password: pw('s3cret'), certificateUuid: 'esp32-001' },
      { ok: false, returnCode: 5, reason: 'device disabled' }
    ],
    ['no certificate, no username: anonymous, refused', { clientId: 'esp32-001' }, { ok: false, returnCode: 5 }]
  ]
  for (const [name, creds, want] of cases) t.match(await auth.authenticate(creds), want, name)
})

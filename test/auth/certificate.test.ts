import t from 'tap'
import { Authenticator, type DeviceRecord } from '../../src/auth/authenticate.js'
import { FailureLimiter } from '../../src/auth/failure-limiter.js'
import { hashSecret } from '../../src/auth/passwords.js'
import { FakeClock } from '../helpers/fake-clock.js'

// #17: a device proven by a client certificate (credentials.certificate, set by the broker from a TLS socket
// that verified it) goes through the same CONNECT decision as one with its secret. Table-driven, no broker.

const pw = (s: string): Buffer => Buffer.from(s)
/** A verified certificate naming `uuid`, serial AB01 (each device below holds AB01 as its current one). */
const cert = (uuid: string, serial = 'AB01'): { uuid: string, serial: string } => ({ uuid, serial })

t.test('a certificate\'s device UUID: the right principal or CONNACK code', async t => {
  const clock = new FakeClock()
  const hash = await hashSecret('s3cret')
  const device = (uuid: string, type: string, more: Partial<DeviceRecord> = {}): DeviceRecord =>
    ({
      uuid,
      type,
      enabled: true,
      status: 'offline',
      secretHash: hash,
      capabilities: null,
      certSerial: 'AB01',
      ...more
    })
  const devices: Record<string, DeviceRecord> = {
    'esp32-001': device('esp32-001', 'display'),
    'esp32-off': device('esp32-off', 'relay_board', { enabled: false }),
    'esp32-new': device('esp32-new', 'sensor', { status: 'pending' }),
    'esp32-nocert': device('esp32-nocert', 'sensor', { certSerial: null })
  }
  const auth = new Authenticator({
    policy: { allowAnonymous: false, healthUsername: 'autocore-health', healthToken: 'tok', autoRegister: true },
    findDevice: async uuid => devices[uuid],
    findUser: async () => undefined,
    jwtKey: new Uint8Array(32),
    limiter: new FailureLimiter({ maxFailures: 100, windowMs: 60_000, penaltyMs: 30_000 }, clock),
    clock
  })
  const refused = (returnCode: number, reason?: string): unknown =>
    ({ ok: false, returnCode, ...(reason === undefined ? {} : { reason }) })
  const cases: Array<[string, Parameters<Authenticator['authenticate']>[0], unknown]> = [
    ['no username, no password', { clientId: 'esp32-001', certificate: cert('esp32-001') },
      {
        ok: true,
        principal: {
          kind: 'device',
          uuid: 'esp32-001',
          deviceType: 'display',
          display: true,
          secretHash: undefined,
          certSerial: 'AB01'
        }
      }],
    ['its own UUID as username', { clientId: 'esp32-001', username: 'esp32-001', certificate: cert('esp32-001') },
      { ok: true, principal: { kind: 'device', uuid: 'esp32-001' } }],
    ['a wrong password is not even looked at',
      { clientId: 'esp32-001', username: 'esp32-001', password: pw('nope'), certificate: cert('esp32-001') },
      { ok: true }],
    ['another client id', { clientId: 'esp32-002', certificate: cert('esp32-001') }, refused(2)],
    ['disabled device', { clientId: 'esp32-off', certificate: cert('esp32-off') }, refused(5, 'device disabled')],
    ['pending device', { clientId: 'esp32-new', certificate: cert('esp32-new') },
      refused(5, 'device pending approval')],
    ['deleted device (no auto-registration by certificate)',
      { clientId: 'esp32-999', certificate: cert('esp32-999') }, refused(4, 'certificate of an unknown device')],
    ['another username: the password way, the certificate ignored',
      { clientId: 'esp32-off', username: 'esp32-off', password: pw('s3cret'), certificate: cert('esp32-001') },
      refused(5, 'device disabled')],
    ['a replaced certificate (another serial)', { clientId: 'esp32-001', certificate: cert('esp32-001', 'AB00') },
      refused(4, 'certificate revoked or replaced')],
    ['a revoked certificate (the device holds none)',
      { clientId: 'esp32-nocert', certificate: cert('esp32-nocert') }, refused(4, 'certificate revoked or replaced')],
    ['no certificate, no username: anonymous, refused', { clientId: 'esp32-001' }, refused(5)]
  ]
  for (const [name, creds, want] of cases) t.match(await auth.authenticate(creds), want, name)
})

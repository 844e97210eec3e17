import t from 'tap'
import {
  Authenticator,
  type AuthenticatePolicy,
  type DeviceRecord,
  type UserRecord
} from '../../src/auth/authenticate.js'
import { FailureLimiter } from '../../src/auth/failure-limiter.js'
import { issueToken } from '../../src/auth/jwt.js'
import { hashSecret } from '../../src/auth/passwords.js'
import { FakeClock } from '../helpers/fake-clock.js'

const key = new Uint8Array(32).fill(7)
const pw = (s: string): Buffer => Buffer.from(s)

async function setup (
  policy: Partial<AuthenticatePolicy> = {},
  limits = { maxFailures: 3, windowMs: 60_000, penaltyMs: 30_000 }
): Promise<{ auth: Authenticator, clock: FakeClock, token: (u: string, s?: number) => Promise<string> }> {
  const clock = new FakeClock()
  const hash = await hashSecret('s3cret')
  const devices: Record<string, DeviceRecord> = {
    'esp32-001': {
      uuid: 'esp32-001',
      type: 'relay_board',
      enabled: true,
      status: 'offline',
      secretHash: hash,
      capabilities: ['emergency_button']
    },
    'esp32-off': {
      uuid: 'esp32-off',
      type: 'display',
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
  const users: Record<string, UserRecord> = {
    ana: { username: 'ana', role: 'operator', enabled: true, tokenVersion: 0 },
    bob: { username: 'bob', role: 'viewer', enabled: false, tokenVersion: 0 }
  }
  const auth = new Authenticator({
    policy: {
      allowAnonymous: false,
      healthUsername: 'autocore-health',
      healthToken: 'tok',
      autoRegister: false,
      ...policy
    },
    findDevice: async uuid => devices[uuid],
    findUser: async name => users[name],
    jwtKey: key,
    limiter: new FailureLimiter(limits, clock),
    clock
  })
  const token = async (u: string, s = 3600): Promise<string> =>
    (await issueToken(key, { username: u, role: 'operator', tokenVersion: 0 }, clock.now(), s)).token
  return { auth, clock, token }
}

t.test('each identity gets the right principal or CONNACK code', async t => {
  const { auth, clock, token } = await setup()
  const cases: Array<[string, Parameters<Authenticator['authenticate']>[0], unknown]> = [
    [
      'device with its secret',
      { clientId: 'esp32-001', username: 'esp32-001', password: pw('s3cret') },
      {
        ok: true,
        principal: {
          kind: 'device',
          uuid: 'esp32-001',
          deviceType: 'relay_board',
          capabilities: ['emergency_button'],
          display: false
        }
      }
    ],
    [
      'device with a bad secret',
      { clientId: 'esp32-001', username: 'esp32-001', password: pw('nope') },
      { ok: false, returnCode: 4, reason: 'bad device secret' }
    ],
    ['device without a password', { clientId: 'esp32-001', username: 'esp32-001' }, { ok: false, returnCode: 4 }],
    [
      'disabled device',
      { clientId: 'esp32-off', username: 'esp32-off', password: pw('s3cret') },
      { ok: false, returnCode: 5, reason: 'device disabled' }
    ],
    [
      'pending device',
      { clientId: 'esp32-new', username: 'esp32-new', password: pw('s3cret') },
      { ok: true, principal: { kind: 'device', pending: { secretHash: String } } }
    ],
    [
      'unknown uuid',
      { clientId: 'esp32-999', username: 'esp32-999', password: pw('s3cret') },
      { ok: false, returnCode: 4, reason: 'unknown identity' }
    ],
    [
      'device id as username under another client id',
      { clientId: 'other', username: 'esp32-001', password: pw('s3cret') },
      { ok: false, returnCode: 4 }
    ],
    [
      'user with a valid token',
      { clientId: 'panel-1', username: 'ana', password: pw(await token('ana')) },
      { ok: true, principal: { kind: 'user', username: 'ana', role: 'operator', clientId: 'panel-1' } }
    ],
    [
      'user with another user\'s token',
      { clientId: 'panel-1', username: 'ana', password: pw(await token('bob')) },
      { ok: false, returnCode: 4, reason: 'token for another user' }
    ],
    [
      'user with garbage',
      { clientId: 'panel-1', username: 'ana', password: pw('x.y.z') },
      { ok: false, returnCode: 4, reason: 'invalid token' }
    ],
    [
      'disabled user',
      { clientId: 'panel-2', username: 'bob', password: pw(await token('bob')) },
      { ok: false, returnCode: 5, reason: 'user disabled' }
    ],
    [
      'health identity',
      { clientId: 'h', username: 'autocore-health', password: pw('tok') },
      { ok: true, principal: { kind: 'health' } }
    ],
    [
      'health identity with a wrong token',
      { clientId: 'h', username: 'autocore-health', password: pw('tok2') },
      { ok: false, returnCode: 4 }
    ],
    ['no credentials', { clientId: 'x' }, { ok: false, returnCode: 5 }]
  ]
  for (const [name, creds, want] of cases) {
    t.match(
      await auth.authenticate({ remoteAddress: `10.0.0.${cases.findIndex(c => c[0] === name)}`, ...creds }),
      want,
      name
    )
  }

  const expiring = await token('ana', 60)
  clock.advance(61_000)
  t.match(
    await auth.authenticate({ clientId: 'p', username: 'ana', password: pw(expiring), remoteAddress: '10.1.1.1' }),
    { ok: false, returnCode: 4, reason: 'token expired' }
  )
})

t.test('anonymous only when allowed; credentials given are still checked', async t => {
  const { auth } = await setup({ allowAnonymous: true })
  t.match(await auth.authenticate({ clientId: 'a' }), { ok: true, principal: { kind: 'anonymous', clientId: 'a' } })
  t.match(await auth.authenticate({ clientId: 'a', username: 'x', password: pw('y') }), { ok: false, returnCode: 4 })
})

t.test('autoRegister accepts an unknown device id as pending, with its password hashed', async t => {
  const { auth } = await setup({ autoRegister: true })
  t.match(await auth.authenticate({ clientId: 'esp32-777', username: 'esp32-777', password: pw('first') }), {
    ok: true,
    principal: { kind: 'device', uuid: 'esp32-777', pending: { secretHash: /^scrypt\$/ } }
  })
  t.match(await auth.authenticate({ clientId: 'Not_An_Id', username: 'Not_An_Id', password: pw('first') }), {
    ok: false,
    returnCode: 4
  })
})

t.test('failures throttle the address, not the device connecting from elsewhere', async t => {
  const { auth, clock } = await setup()
  const bad = { clientId: 'esp32-001', username: 'esp32-001', password: pw('guess'), remoteAddress: '::ffff:10.9.9.9' }
  const outcomes = []
  for (let i = 0; i < 5; i++) outcomes.push(await auth.authenticate(bad))
  t.match(outcomes.map(o => o.ok ? 0 : o.returnCode), [4, 4, 4, 5, 5])
  t.equal(outcomes[2].penaltyStarted, true, 'the third failure starts the penalty')
  t.equal(outcomes[3].throttled, true, 'refused unchecked')
  t.match(
    await auth.authenticate({ ...bad, password: pw('s3cret') }),
    { ok: false, returnCode: 5 },
    'even the right secret from the throttled address'
  )
  t.match(
    await auth.authenticate({ ...bad, password: pw('s3cret'), remoteAddress: '10.0.0.2' }),
    { ok: true },
    'the device from its own address connects'
  )
  clock.advance(30_001)
  t.match(await auth.authenticate({ ...bad, password: pw('s3cret') }), { ok: true }, 'after the penalty')
})

t.test('one check at a time per address: a parallel burst stops at the penalty, another address is not held ' +
  'back', async t => {
  const { auth } = await setup()
  const bad = { clientId: 'esp32-001', username: 'esp32-001', password: pw('guess'), remoteAddress: '10.9.9.9' }
  const order: string[] = []
  const burst = Array.from(
    { length: 10 },
    async () =>
      await auth.authenticate(bad).then(o => {
        order.push('bad')
        return o
      })
  )
  const good = auth.authenticate({ ...bad, password: pw('s3cret'), remoteAddress: '10.0.0.2' }).then(o => {
    order.push('good')
    return o
  })
  const outcomes = await Promise.all(burst)
  t.match(await good, { ok: true })
  t.same(
    outcomes.map(o => (o.ok ? 0 : o.returnCode)),
    [4, 4, 4, 5, 5, 5, 5, 5, 5, 5],
    'three guesses hashed one after another, the rest refused unchecked'
  )
  t.equal(outcomes.filter(o => o.throttled === true).length, 7)
  t.ok(order.indexOf('good') < 3, 'the good device did not wait behind the burst')
})

import t from 'tap'
import { authenticate, type AuthenticatePolicy } from '../../src/auth/authenticate.js'

const policy = (allowAnonymous: boolean): AuthenticatePolicy => ({ allowAnonymous, healthUsername: 'autocore-health', healthToken: 'tok' })
const pw = (s: string): Buffer => Buffer.from(s)

const cases: Array<[string, boolean, { username?: string, password?: Buffer }, unknown]> = [
  ['health identity with its token', false, { username: 'autocore-health', password: pw('tok') }, { ok: true, principal: { kind: 'health' } }],
  ['health identity with a wrong token', true, { username: 'autocore-health', password: pw('tok2') }, { ok: false, returnCode: 4 }],
  ['health identity without a token', true, { username: 'autocore-health' }, { ok: false, returnCode: 4 }],
  ['anonymous when allowed', true, {}, { ok: true, principal: { kind: 'anonymous' } }],
  ['anything when anonymous is allowed', true, { username: 'x', password: pw('y') }, { ok: true, principal: { kind: 'anonymous' } }],
  ['anonymous when refused', false, {}, { ok: false, returnCode: 5 }],
  ['unknown credentials when anonymous is refused', false, { username: 'x', password: pw('y') }, { ok: false, returnCode: 4 }]
]

for (const [name, allow, creds, want] of cases) {
  t.test(name, async t => {
    t.match(authenticate({ clientId: 'c1', ...creds }, policy(allow)), want)
  })
}

t.test('an empty configured token never matches', async t => {
  t.match(authenticate({ clientId: 'c', username: 'autocore-health', password: pw('') }, { ...policy(false), healthToken: '' }), { ok: false })
})

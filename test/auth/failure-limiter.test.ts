import t from 'tap'
import { FailureLimiter, addressKey } from '../../src/auth/failure-limiter.js'
import { Throttle } from '../../src/services/throttle.js'
import { KeyedGate } from '../../src/auth/keyed-gate.js'
import { FakeClock } from '../helpers/fake-clock.js'

t.test('a penalty after maxFailures within the window, lifted after penaltyMs; success clears', async t => {
  const clock = new FakeClock()
  const l = new FailureLimiter({ maxFailures: 3, windowMs: 10_000, penaltyMs: 5_000 }, clock)
  t.same([l.fail('k'), l.fail('k')], [false, false])
  clock.advance(10_000)
  t.same([l.fail('k'), l.fail('k'), l.fail('k')], [false, false, true], 'the window restarted, then three failures')
  t.ok(l.blocked('k'))
  t.ok(l.failedRecently('k'))
  clock.advance(5_001)
  t.notOk(l.blocked('k'))
  l.fail('k')
  l.succeed('k')
  t.notOk(l.failedRecently('k'))
  t.equal(addressKey('::ffff:10.0.0.1'), addressKey('10.0.0.1'))
})

t.test('memory stays bounded under an address spray', async t => {
  const l = new FailureLimiter({ maxFailures: 2, windowMs: 10_000, penaltyMs: 5_000, maxKeys: 100 }, new FakeClock())
  for (let i = 0; i < 1000; i++) l.fail(`a${i}`)
  t.notOk(l.failedRecently('a0'), 'the oldest were forgotten')
  t.ok(l.failedRecently('a999'))
})

t.test('Throttle: one pass per key per interval, counting what it held back', async t => {
  const clock = new FakeClock()
  const th = new Throttle(clock, 1000, 2)
  t.equal(th.take('a'), 0)
  t.equal(th.take('a'), undefined)
  t.equal(th.take('a'), undefined)
  clock.advance(1000)
  t.equal(th.take('a'), 2)
  th.take('b')
  th.take('c')
  t.equal(th.take('a'), 0, 'a was forgotten past maxKeys')
})

t.test('KeyedGate: at most limit holders per key, the rest wait in order, past maxWaiting refused', async t => {
  const gate = new KeyedGate(2, 1)
  const a = await gate.acquire('k')
  const b = await gate.acquire('k')
  const other = await gate.acquire('x')
  t.ok(a !== undefined && b !== undefined && other !== undefined)
  let cGot = false
  const c = gate.acquire('k').then(r => { cGot = true; return r })
  t.equal(await gate.acquire('k'), undefined, 'the second waiter is one too many')
  await new Promise(resolve => setImmediate(resolve))
  t.equal(cGot, false, 'waits while two hold')
  a?.()
  a?.()
  const release = await c
  t.ok(cGot, 'gets the slot a released')
  release?.()
  b?.()
  t.ok(await gate.acquire('k'), 'free again')
})

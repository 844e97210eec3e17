import t from 'tap'
import { systemClock } from '../src/clock.js'
import { FakeClock } from './helpers/fake-clock.js'

t.test('the system clock runs real timers and can cancel them', async t => {
  const fired: string[] = []
  const a = systemClock.setTimeout(() => fired.push('a'), 1)
  systemClock.setTimeout(() => fired.push('b'), 1).cancel()
  const every = systemClock.setInterval(() => fired.push('i'), 1)
  await new Promise(resolve => setTimeout(resolve, 30))
  every.cancel()
  a.cancel()
  t.ok(fired.includes('a') && fired.includes('i') && !fired.includes('b'))
  t.ok(Math.abs(systemClock.now() - Date.now()) < 50)
})

t.test('the fake clock fires due timers in time order', async t => {
  const clock = new FakeClock(0)
  const fired: string[] = []
  clock.setTimeout(() => fired.push('t50'), 50)
  const i = clock.setInterval(() => fired.push(`i${clock.now()}`), 20)
  clock.setTimeout(() => fired.push('never'), 10).cancel()
  await clock.tick(60)
  i.cancel()
  clock.advance(100)
  t.same(fired, ['i20', 'i40', 't50', 'i60'])
  t.equal(clock.now(), 160)
})

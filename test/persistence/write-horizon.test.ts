import t from 'tap'
import { WriteHorizon } from '../../src/persistence/repositories/write-horizon.js'

t.test('the horizon stays before the oldest write still running', async t => {
  const w = new WriteHorizon()
  t.equal(w.horizon(100), 99, 'nothing running: the millisecond before now')
  let finish: () => void = () => {}
  const slow = w.track(50, async () => await new Promise<void>(resolve => { finish = resolve }))
  const fast = w.track(50, async () => 'done')
  const later = w.track(70, async () => await new Promise<void>(resolve => setImmediate(resolve)))
  t.equal(w.horizon(100), 49, 'a write stamped 50 is running')
  t.equal(await fast, 'done')
  await later
  t.equal(w.horizon(100), 49, 'the other write stamped 50 still runs')
  finish()
  await slow
  t.equal(w.horizon(100), 99, 'all settled')
  await t.rejects(w.track(80, async () => { throw new Error('boom') }), /boom/)
  t.equal(w.horizon(100), 99, 'a failed write is settled too')
})

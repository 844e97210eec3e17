import t from 'tap'
import { actorFromPrincipal, mayControl, mayReset, mayStop, sourceOf, type Actor } from '../../src/auth/actor.js'
import { covers } from '../../src/protocol/index.js'
import { mayPublish } from '../../src/services/macro-steps.js'

t.test('who may control, stop and reset (table)', async t => {
  const cases: Array<[Actor, boolean, boolean, boolean]> = [
    [{ kind: 'user', username: 'v', role: 'viewer' }, false, false, false],
    [{ kind: 'user', username: 'o', role: 'operator' }, true, true, false],
    [{ kind: 'user', username: 'a', role: 'admin' }, true, true, true],
    [{ kind: 'device', uuid: 'b', capabilities: ['emergency_button'] }, false, true, false],
    [{ kind: 'device', uuid: 'r', capabilities: [] }, false, false, false],
    [{ kind: 'anonymous', clientId: 'dev' }, false, false, false],
    [{ kind: 'gateway' }, true, true, true],
    [{ kind: 'other', clientId: 'health' }, false, false, false]
  ]
  for (const [actor, control, stop, reset] of cases) {
    t.same([mayControl(actor), mayStop(actor), mayReset(actor)], [control, stop, reset], JSON.stringify(actor))
  }
})

t.test('principals map to actors and source labels', async t => {
  t.same(actorFromPrincipal({ kind: 'user', username: 'ana', role: 'admin' }, 'c1'), {
    kind: 'user',
    username: 'ana',
    role: 'admin'
  })
  t.same(actorFromPrincipal({ kind: 'user', username: 'x', role: 'weird' }, 'c1'), {
    kind: 'user',
    username: 'x',
    role: 'viewer'
  })
  t.same(actorFromPrincipal({ kind: 'device', uuid: 'u1', capabilities: ['emergency_button'] }, 'u1'), {
    kind: 'device',
    uuid: 'u1',
    capabilities: ['emergency_button']
  })
  t.same(actorFromPrincipal({ kind: 'device' }, 'u2'), { kind: 'device', uuid: 'u2', capabilities: [] })
  t.same(actorFromPrincipal({ kind: 'health', username: 'h' }, 'c2'), { kind: 'other', clientId: 'c2' })
  t.same(actorFromPrincipal(undefined, 'c3'), { kind: 'other', clientId: 'c3' })
  t.equal(sourceOf({ kind: 'user', username: 'ana', role: 'admin' }), 'user:ana')
  t.equal(sourceOf({ kind: 'device', uuid: 'u1', capabilities: [] }), 'device:u1')
  t.equal(sourceOf({ kind: 'gateway' }), 'gateway')
  t.equal(sourceOf({ kind: 'anonymous', clientId: 'p' }), 'mqtt:p')
})

t.test('topic filters and the topics a macro may publish to', async t => {
  t.ok(covers('a/+/c', 'a/b/c'))
  t.ok(covers('a/#', 'a/b/c'))
  t.notOk(covers('a/+', 'a/b/c'))
  t.notOk(covers('a/b/c', 'a/b'))
  const allowed = ['autocore/display/#', 'autocore/#']
  t.ok(mayPublish(allowed, 'autocore/display/banner'))
  for (const bad of [
    'autocore/devices/x/command',
    'autocore/relays/x/command',
    'autocore/emergency/stop',
    'autocore/macros/1/run',
    '$SYS/x',
    'autocore/display/+'
  ]) {
    t.notOk(mayPublish(allowed, bad), bad)
  }
  t.notOk(mayPublish(['autocore/display/#'], 'autocore/other'))
})

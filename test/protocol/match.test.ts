import t from 'tap'
import { covers, intersects } from '../../src/protocol/match.js'

t.test('covers: every topic of the requested filter matches the allowed one', async t => {
  const yes: Array<[string, string]> = [
    ['a/#', 'a'],
    ['a/#', 'a/b/c'],
    ['a/+/c', 'a/b/c'],
    ['a/+/c', 'a/+/c'],
    ['#', 'x/y'],
    ['a/b', 'a/b'],
    ['a/+/#', 'a/x/y/#']
  ]
  const no: Array<[string, string]> = [
    ['a/+', 'a/#'],
    ['a/b', 'a/+'],
    ['a/+/c', 'a/b'],
    ['a/b', 'a/b/c'],
    ['#', '$SYS/x'],
    ['+/x', '$SYS/x'],
    ['a/+', 'a/b/c']
  ]
  for (const [a, r] of yes) t.ok(covers(a, r), `${a} covers ${r}`)
  for (const [a, r] of no) t.notOk(covers(a, r), `${a} does not cover ${r}`)
})

t.test('intersects: some topic matches both', async t => {
  const yes: Array<[string, string]> = [
    ['a/#', 'a'],
    ['a/+', 'a/b'],
    ['+/b', 'a/+'],
    ['#', 'x'],
    ['autocore/#', '+/x'],
    ['a/b/#', 'a/#']
  ]
  const no: Array<[string, string]> = [
    ['a/b', 'a/c'],
    ['a/+', 'a/b/c'],
    ['#', '$SYS/x'],
    ['autocore/#', 'veh/x'],
    ['a/b', 'a']
  ]
  for (const [a, b] of yes) t.ok(intersects(a, b) && intersects(b, a), `${a} ~ ${b}`)
  for (const [a, b] of no) t.notOk(intersects(a, b) || intersects(b, a), `${a} !~ ${b}`)
})

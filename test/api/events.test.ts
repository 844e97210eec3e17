import t from 'tap'
import type { EventInput } from '../../src/services/events.js'
import { startApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, type Harness, type Res } from './cases/harness.js'

async function events (h: Harness, query: Record<string, string | number>): Promise<Res> {
  const res = await h.call('GET', '/events', { token: await h.token('viewer'), query })
  if (res.status !== 200) throw new Error(`events: ${res.status} ${JSON.stringify(res.body)}`)
  return res
}
const ids = (res: Res): number[] => res.body.items.map((e: { id: number }) => e.id)

t.test('GET /events?since= returns exactly the events after since, oldest first, and a next cursor that misses and ' +
  'repeats nothing', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const h = harness(app)
  await h.token('viewer')
  clock.advance(10) // past the events of the start
  const log = async (e: Partial<EventInput>): Promise<number> => {
    const m = await app.gateway.services.events.log({ level: 'info', type: 'test_a', source: 'test', ...e })
    if (m === undefined) throw new Error('not logged')
    return m.id
  }
  const t0 = clock.now()
  const e1 = await log({ level: 'info', type: 'test_a' })
  clock.advance(1)
  const e2 = await log({ level: 'warning', type: 'test_b' })
  const e3 = await log({ level: 'critical', type: 'test_a', target: 'x', payload: { n: 3 } }) // same millisecond as e2
  clock.advance(1)

  let res = await events(h, { since: t0 })
  t.same(ids(res), [e2, e3], 'an event exactly at since is not returned; those 1 ms after are')
  t.same(res.body.next, { since: t0 + 1, afterId: null })
  t.match(res.body.items[1], {
    id: e3,
    ts: new Date(t0 + 1).toISOString(),
    level: 'critical',
    type: 'test_a',
    source: 'test',
    action: null,
    target: 'x',
    username: null,
    payload: { n: 3 }
  })
  t.same(ids(await events(h, { since: t0 - 1 })), [e1, e2, e3])
  t.same(ids(await events(h, { since: new Date(t0).toISOString() })), [e2, e3], 'since may be ISO 8601')
  t.same(ids(await events(h, { since: t0 - 1, level: 'warning' })), [e2, e3], 'level is a minimum')
  t.same(ids(await events(h, { since: t0 - 1, level: 'critical' })), [e3])
  t.same(ids(await events(h, { since: t0 - 1, type: 'test_a' })), [e1, e3])
  t.same(ids(await events(h, { since: t0 - 1, type: 'test_b,test_a', level: 'warning' })), [e2, e3])
  t.same(ids(await events(h, { type: 'test_a,test_b' })), [e3, e2, e1], 'without since: newest first')

  // Paging through events of one millisecond with the (since, afterId) cursor.
  res = await events(h, { since: t0, limit: 1 })
  t.same(
    [ids(res), res.body.next],
    [[e2], { since: t0 + 1, afterId: e2 }],
    'a full page continues after its last event'
  )
  res = await events(h, { ...res.body.next, limit: 1 })
  t.same([ids(res), res.body.next], [[e3], { since: t0 + 1, afterId: e3 }])
  res = await events(h, { ...res.body.next, limit: 1 })
  t.same([ids(res), res.body.next], [[], { since: t0 + 1, afterId: e3 }], 'nothing after the last one')

  const e4 = await log({ type: 'test_c' })
  t.same(
    ids(await events(h, { since: t0 + 1 })),
    [],
    'an event of the current millisecond waits: another may still come in it'
  )
  clock.advance(1)
  res = await events(h, { since: t0 + 1, afterId: e3 })
  t.same([ids(res), res.body.next], [[e4], { since: t0 + 2, afterId: null }], 'then it is returned, once')

  const admin = await h.token('admin')
  t.match(await h.call('GET', '/events', { token: admin, query: { afterId: 3 } }), {
    status: 400,
    body: { error: { code: 'GW_ERR_HTTP_VALIDATION', details: [{ in: 'query', field: 'since' }] } }
  })
  t.match(await h.call('GET', '/events', { token: admin, query: { since: 'last week' } }), {
    status: 400,
    body: { error: { details: [{ in: 'query', field: 'since' }] } }
  })
  t.match(await h.call('GET', '/events', { token: admin, query: { level: 'loud' } }), {
    status: 400,
    body: { error: { details: [{ in: 'query', field: 'level' }] } }
  })
})

t.test('an event still waiting for the connection holds the pollers\' horizon before its time', async t => {
  const clock = new FakeClock()
  const app = await startApp(t, { clock })
  const { db, events, repos } = app.gateway.services
  let end: () => void = () => {}
  const held = new Promise<void>(resolve => { end = resolve })
  const tx = db.dataSource.transaction(async m => { await m.query('SELECT 1'); await held })
  await new Promise(resolve => setImmediate(resolve))
  const ts = clock.now()
  const logging = events.log({ level: 'info', type: 'late', source: 'test' })
  clock.advance(50)
  t.equal(repos.events.horizon(clock.now()), ts - 1, 'a poller may not read past the event to come')
  end()
  await tx
  t.match(await logging, { type: 'late', ts: new Date(ts).toISOString() })
  t.equal(repos.events.horizon(clock.now()), clock.now() - 1, 'written: the horizon moves on')
})

t.test('events page in SQL: total counts every match, offset skips', async t => {
  const app = await startApp(t)
  const h = harness(app)
  for (let i = 0; i < 5; i++) {
    await app.gateway.services.events.log({ level: 'info', type: 'paged', source: 'test', payload: { i } })
  }
  const res = await events(h, { type: 'paged', limit: 2, offset: 1 })
  t.match(res.body, {
    total: 5,
    limit: 2,
    offset: 1,
    items: [{ payload: { i: 3 } }, { payload: { i: 2 } }],
    next: null
  })
})

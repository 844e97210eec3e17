import { createHmac } from 'node:crypto'
import t from 'tap'
import { backoffMs, circuitState, filterMatches, typeMatches } from '../../src/services/webhook-policy.js'
import { deliveryBody, deliveryHeaders, eventTypeOf } from '../../src/services/webhook-wire.js'

t.test('type patterns: exact, or * for any run of characters', async t => {
  const table: Array<[string, string, boolean]> = [
    ['emergency_stop', 'emergency_stop', true],
    ['emergency_stop', 'emergency_stops', false],
    ['*', 'anything.at_all', true],
    ['device_*', 'device_connected', true],
    ['device_*', 'device_', true],
    ['device_*', 'devices_x', false],
    ['*_failed', 'command_failed', true],
    ['*_failed', 'command_failed_twice', false],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['backup.*', 'backup.failed', true],
    ['backup.*', 'backupxfailed', false]
  ]
  for (const [pattern, type, want] of table) t.equal(typeMatches(pattern, type), want, `${pattern} ~ ${type}`)
})

t.test('filters: level at least minLevel, and a matching type (an empty list matches all)', async t => {
  t.ok(filterMatches({ events: ['*'], minLevel: 'info' }, { type: 'x', level: 'info' }))
  t.notOk(filterMatches({ events: ['*'], minLevel: 'warning' }, { type: 'x', level: 'info' }))
  t.ok(filterMatches({ events: ['*'], minLevel: 'warning' }, { type: 'x', level: 'critical' }))
  t.ok(filterMatches({ events: [], minLevel: 'error' }, { type: 'x', level: 'error' }))
  t.notOk(filterMatches({ events: ['y'], minLevel: 'info' }, { type: 'x', level: 'critical' }))
})

t.test('backoff: full jitter under an exponential cap', async t => {
  const cfg = { baseDelayMs: 1000, maxDelayMs: 10_000 }
  t.same(
    [1, 2, 3, 4, 5, 60].map(n => backoffMs(n, cfg, () => 0.999999)),
    [1000, 2000, 4000, 8000, 10_000, 10_000],
    'the cap doubles per failure up to maxDelayMs'
  )
  t.same([1, 4, 60].map(n => backoffMs(n, cfg, () => 0)), [1, 1, 1], 'the floor is 1 ms')
  t.equal(backoffMs(3, cfg, () => 0.5), 2001)
  for (let i = 0; i < 100; i++) {
    const ms = backoffMs(2, cfg)
    t.ok(ms >= 1 && ms <= 2000 && Number.isInteger(ms))
    if (ms < 1 || ms > 2000) break
  }
})

t.test('circuit state from the webhook columns', async t => {
  t.equal(circuitState({ failureCount: 0, circuitOpenUntil: null }, 3, 1000), 'closed')
  t.equal(circuitState({ failureCount: 2, circuitOpenUntil: null }, 3, 1000), 'closed')
  t.equal(circuitState({ failureCount: 3, circuitOpenUntil: 1001 }, 3, 1000), 'open')
  t.equal(circuitState({ failureCount: 3, circuitOpenUntil: 1000 }, 3, 1000), 'half-open')
})

t.test('wire format: body, headers, signature over "<t>.<body>"', async t => {
  const event = {
    id: 7,
    ts: '2026-01-01T00:00:00.000Z',
    level: 'info' as const,
    type: 'x',
    source: 's',
    action: null,
    target: null,
    username: null,
    payload: null
  }
  const body = deliveryBody(42, event)
  t.same(JSON.parse(body), { deliveryId: 42, event })
  const h = deliveryHeaders({ id: 42, eventType: 'x', body }, 'k', 1_767_225_600_999)
  const hmac = createHmac('sha256', 'k').update(`1767225600.${body}`).digest('hex')
  t.same(h['x-autocore-signature'], `t=1767225600,v1=${hmac}`)
  t.match(h, {
    'x-autocore-delivery': '42',
    'x-autocore-event': 'x',
    'content-type': 'application/json',
    'user-agent': /^AutoCore-Gateway\//
  })
  t.equal(eventTypeOf(body), 'x')
  t.equal(eventTypeOf('not json'), '')
  t.equal(eventTypeOf('{"event":{}}'), '')
})

import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { DeepPartial } from '../../src/config/loader.js'
import type { Config } from '../../src/config/types.js'
import { packageRoot } from '../../src/paths.js'
import type { EventInput } from '../../src/services/events.js'
import { harness, type Harness } from '../api/cases/harness.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startReceiver, until, verifySignature, type Receiver } from '../helpers/webhook-receiver.js'

// The delivery service against the real app: real HTTP receivers on port 0, real SQLite, the injected clock for
// backoff and the breaker (time moves only when a test ticks it; HTTP round trips are real and awaited).

const BASE: DeepPartial<Config> = {
  webhooks: {
    baseDelayMs: 1000,
    maxDelayMs: 8000,
    maxAttempts: 10,
    breakerThreshold: 10,
    breakerCooldownMs: 60_000,
    timeoutMs: 10_000
  }
}

interface Setup { app: RunningApp, clock: FakeClock, h: Harness, token: string }

async function setup (
  t: Test,
  webhooks: DeepPartial<Config['webhooks']> = {},
  opts: { dataDir?: string, clock?: FakeClock } = {}
): Promise<Setup> {
  const clock = opts.clock ?? new FakeClock()
  const app = await startApp(t, {
    clock,
    dataDir: opts.dataDir,
    config: { webhooks: { ...BASE.webhooks, ...webhooks } }
  })
  const h = harness(app)
  return { app, clock, h, token: await h.token('admin') }
}

async function addHook (s: Setup, body: Record<string, unknown>): Promise<{ id: number, secret: string }> {
  const res = await s.h.call('POST', '/webhooks', { token: s.token, body })
  if (res.status !== 201) throw new Error(`POST /webhooks: ${res.status} ${JSON.stringify(res.body)}`)
  return { id: res.body.id, secret: res.body.secret ?? body.secret }
}

async function log (s: Setup, e: Partial<EventInput> & { type: string }): Promise<number> {
  const msg = await s.app.gateway.services.events.log({ level: 'info', source: 'test', ...e })
  return msg?.id as number
}

async function deliveries (s: Setup, hookId: number): Promise<any[]> {
  return (await s.h.call('GET', `/webhooks/${hookId}/deliveries`, { token: s.token })).body.items
}

async function hookView (s: Setup, hookId: number): Promise<any> {
  return (await s.h.call('GET', `/webhooks/${hookId}`, { token: s.token })).body
}

const row = async (s: Setup, id: number): Promise<any> => await s.app.gateway.services.repos.webhooks.delivery(id)

/** An event through a second endpoint: once it arrives, the service has run a pass at the current (fake) time. */
async function barrier (s: Setup, rx: Receiver, type: string): Promise<void> {
  const before = rx.hits.length
  await log(s, { type })
  await until(() => rx.hits.length > before)
}

t.test('a receiver failing 3 times then answering 2xx gets the event exactly once more, signed, then no ' +
  'more', async t => {
  const rx = await startReceiver(t, (_hit, n) => n <= 3 ? [500, 502, 503][n - 1] : 204)
  const s = await setup(t)
  const hook = await addHook(s, { url: rx.url, events: ['alarm_*'] })
  t.match(hook.secret, /^[0-9a-f]{64}$/)

  const eventId = await log(s, { level: 'warning', type: 'alarm_raised', payload: { x: 1 } })
  await until(() => rx.hits.length === 1)
  const deliveryId: number = rx.hits[0].json.deliveryId
  for (let n = 1; n <= 3; n++) {
    await until(async () => (await row(s, deliveryId))?.attempts === n)
    const [d] = await deliveries(s, hook.id)
    t.match(
      d,
      {
        id: deliveryId,
        eventId,
        eventType: 'alarm_raised',
        status: 'pending',
        attempts: n,
        lastError: /^HTTP 50[023]: nope/,
        deliveredAt: null
      },
      `after failure ${n}`
    )
    const wait = Date.parse(d.nextAttemptAt) - s.clock.now()
    t.ok(
      wait >= 1 && wait <= 1000 * 2 ** (n - 1),
      `backoff ${wait} ms within [1, ${1000 * 2 ** (n - 1)}] (full jitter)`
    )
    await s.clock.tick(8000)
    await until(() => rx.hits.length === n + 1)
  }
  await until(async () => (await row(s, deliveryId))?.status === 'delivered')

  await s.clock.tick(600_000)
  const later = await log(s, { type: 'alarm_cleared' })
  await until(() => rx.hits.length === 5)
  t.equal(rx.hits[4].json.event.id, later, 'the next event came through the same endpoint')
  t.equal(rx.of(deliveryId).length, 4, 'four requests for the delivery: three failures, one success, no more')

  for (const hit of rx.of(deliveryId)) {
    t.ok(verifySignature(hit, hook.secret) !== undefined, 'a valid signature with the secret')
    t.equal(hit.body, rx.hits[0].body, 'the same body every attempt')
    t.match(hit.headers, {
      'content-type': 'application/json',
      'x-autocore-event': 'alarm_raised',
      'x-autocore-delivery': String(deliveryId)
    })
  }
  t.equal(verifySignature(rx.hits[0], 'not-the-secret-at-all'), undefined, 'another secret does not verify')
  t.equal(
    verifySignature({ ...rx.hits[0], body: rx.hits[0].body.replace('"x":1', '"x":2') }, hook.secret),
    undefined,
    'a changed body does not verify'
  )
  t.equal(
    verifySignature(rx.hits[3], hook.secret),
    Math.floor(s.clock.now() / 1000) - 600,
    't is the time of the attempt, in unix seconds'
  )
  t.same(rx.hits[0].json, {
    deliveryId,
    event: {
      id: eventId,
      ts: new Date(Date.UTC(2026, 0, 1)).toISOString(),
      level: 'warning',
      type: 'alarm_raised',
      source: 'test',
      action: null,
      target: null,
      username: null,
      payload: { x: 1 }
    }
  }, 'the body is the event as published, with the delivery id')

  const [, d] = await deliveries(s, hook.id)
  t.match(d, {
    id: deliveryId,
    status: 'delivered',
    attempts: 4,
    lastError: null,
    nextAttemptAt: null,
    deliveredAt: new Date(Date.UTC(2026, 0, 1) + 24_000).toISOString()
  })
  t.match(await hookView(s, hook.id), { circuit: 'closed', failureCount: 0 })
})

t.test('a delivery in flight when the gateway stops is sent again after the restart (at least once)', async t => {
  const rx = await startReceiver(t, () => 'hang')
  const dataDir = t.testdir()
  const first = await setup(t, {}, { dataDir })
  const hook = await addHook(first, { url: rx.url, events: ['*'], secret: 'a-secret-of-our-own-choosing' })
  await log(first, { type: 'door_opened' })
  await until(() => rx.hits.length === 1)
  const deliveryId: number = rx.hits[0].json.deliveryId
  await first.app.stop()

  rx.respond = () => 200
  const second = await setup(t, {}, { dataDir })
  await until(() => rx.hits.length === 2)
  t.equal(
    rx.hits[1].headers['x-autocore-delivery'],
    String(deliveryId),
    'the same delivery, for the receiver to dedupe'
  )
  t.equal(rx.hits[1].body, rx.hits[0].body)
  t.ok(verifySignature(rx.hits[1], 'a-secret-of-our-own-choosing') !== undefined, 'signed with the given secret')
  await until(async () => (await row(second, deliveryId))?.status === 'delivered')
  t.match(await row(second, deliveryId), { attempts: 1, webhookId: hook.id }, 'the cut-short attempt did not count')
  t.ok(second.app.logs.some(l => l.msg === 'gateway started'))
})

t.test('deliveries held by an open circuit at a restart go out once the cool-down ends', async t => {
  const rx = await startReceiver(t, () => 503)
  const other = await startReceiver(t)
  const dataDir = t.testdir()
  const first = await setup(t, { breakerThreshold: 1 }, { dataDir })
  const hook = await addHook(first, { url: rx.url, events: ['door_*'] })
  await log(first, { type: 'door_opened' })
  await log(first, { type: 'door_closed' })
  await until(async () => (await hookView(first, hook.id)).circuit === 'open')
  t.equal(rx.hits.length, 1, 'the circuit opened after one failure; the second delivery waits')
  await first.app.stop()

  rx.respond = () => 200
  const second = await setup(t, { breakerThreshold: 1 }, { dataDir, clock: new FakeClock(first.clock.now() + 1000) })
  await addHook(second, { url: other.url, events: ['barrier'] })
  await barrier(second, other, 'barrier')
  t.equal(rx.hits.length, 1, 'still held after the restart: the circuit is open')
  await second.clock.tick(59_000)
  await until(() => rx.hits.length === 3)
  t.same(rx.hits.slice(1).map(h => h.json.event.type), ['door_opened', 'door_closed'], 'both delivered, oldest first')
  await until(async () => (await deliveries(second, hook.id)).every(d => d.status === 'delivered'))
  t.match(await hookView(second, hook.id), { circuit: 'closed', failureCount: 0, circuitOpenUntil: null })
})

t.test('the circuit opens after N consecutive failures and lets one trial through after the cool-down', async t => {
  const rx = await startReceiver(t, () => 500)
  const other = await startReceiver(t)
  const s = await setup(t, { breakerThreshold: 2, baseDelayMs: 100, maxDelayMs: 100, maxAttempts: 20 })
  const hook = await addHook(s, { url: rx.url, events: ['pump_*'] })
  await addHook(s, { url: other.url, events: ['barrier'] })
  for (const n of [1, 2, 3]) await log(s, { type: `pump_${n}` })

  await until(async () => (await hookView(s, hook.id)).circuit === 'open')
  const opened = s.clock.now()
  t.match(await hookView(s, hook.id), { failureCount: 2, circuitOpenUntil: new Date(opened + 60_000).toISOString() })
  t.same(
    rx.hits.map(h => h.json.event.type),
    ['pump_1', 'pump_2'],
    'two failures (pump_1 waits for its backoff), then nothing'
  )

  await s.clock.tick(59_999)
  await barrier(s, other, 'barrier')
  t.equal(rx.hits.length, 2, 'nothing while the circuit is open')

  await s.clock.tick(1)
  await until(() => rx.hits.length === 3)
  await until(async () => (await hookView(s, hook.id)).failureCount === 3)
  await barrier(s, other, 'barrier')
  t.equal(rx.hits.length, 3, 'half-open: one trial request, which failed')
  t.match(
    await hookView(s, hook.id),
    { circuit: 'open', circuitOpenUntil: new Date(s.clock.now() + 60_000).toISOString() },
    'open again for a cool-down'
  )

  rx.respond = () => 200
  await s.clock.tick(60_000)
  await until(async () => (await deliveries(s, hook.id)).every(d => d.status === 'delivered'))
  t.equal(rx.hits.length, 6, 'the trial succeeded and the held deliveries followed')
  t.match(await hookView(s, hook.id), { circuit: 'closed', failureCount: 0, circuitOpenUntil: null })
  t.ok(s.app.logs.some(l => l.msg === 'webhook circuit open' && l.webhookId === hook.id))
  t.ok(s.app.logs.some(l => l.msg === 'webhook circuit closed' && l.webhookId === hook.id))
})

t.test('a delivery is failed after maxAttempts, and a retry queues it again', async t => {
  const rx = await startReceiver(t, () => 500)
  const other = await startReceiver(t)
  const s = await setup(t, { maxAttempts: 3 })
  const hook = await addHook(s, { url: rx.url, events: ['x'] })
  await addHook(s, { url: other.url, events: ['barrier'] })
  await log(s, { type: 'x' })
  for (const n of [1, 2, 3]) {
    await until(() => rx.hits.length === n)
    await until(async () => (await deliveries(s, hook.id))[0].attempts === n)
    await s.clock.tick(8000)
  }
  await barrier(s, other, 'barrier')
  t.equal(rx.hits.length, 3, 'no fourth attempt')
  const [d] = await deliveries(s, hook.id)
  t.match(d, { status: 'failed', attempts: 3, lastError: 'HTTP 500: nope 500', nextAttemptAt: null, deliveredAt: null })
  t.ok(s.app.logs.some(l => l.msg === 'webhook delivery failed' && l.deliveryId === d.id))
  t.same(
    (await s.h.call('GET', `/webhooks/${hook.id}/deliveries`, { token: s.token, query: { status: 'pending' } })).body
      .items,
    [],
    'the status filter'
  )

  rx.respond = () => 200
  const retried = await s.h.call('POST', `/webhooks/deliveries/${d.id as number}/retry`, { token: s.token })
  t.match(retried, { status: 200, body: { id: d.id, status: 'pending', attempts: 0 } })
  await until(async () => (await deliveries(s, hook.id))[0].status === 'delivered')
  t.equal(rx.hits.length, 4)
  t.equal(rx.hits[3].headers['x-autocore-delivery'], String(d.id), 'the same delivery id')
})

t.test('filters: event types with * and a minimum level; disabled webhooks get nothing', async t => {
  const s = await setup(t)
  const url = 'http://127.0.0.1:9/none'
  const devices = await addHook(s, { url, events: ['device_*'] })
  const serious = await addHook(s, { url, events: ['*'], minLevel: 'error' })
  const exact = await addHook(s, { url, events: ['relay_refused', 'a*b*c'] })
  const off = await addHook(s, { url, events: ['*'], enabled: false })
  await log(s, { type: 'device_connected' })
  await log(s, { type: 'relay_refused', level: 'warning' })
  await log(s, { type: 'command_failed', level: 'error' })
  await log(s, { type: 'emergency_stop', level: 'critical' })
  await log(s, { type: 'axxbyyc' })
  await log(s, { type: 'abx' })
  const types = async (id: number): Promise<string[]> => (await deliveries(s, id)).map(d => d.eventType).reverse()
  t.same(await types(devices.id), ['device_connected'])
  t.same(await types(serious.id), ['command_failed', 'emergency_stop'])
  t.same(await types(exact.id), ['relay_refused', 'axxbyyc'])
  t.same(await types(off.id), [])
})

t.test('an emergency stop fires the webhooks subscribed to it', async t => {
  const rx = await startReceiver(t)
  const s = await setup(t)
  const hook = await addHook(s, { url: rx.url, events: ['emergency_stop'], minLevel: 'critical' })
  await s.app.gateway.services.emergency.trigger({
    reason: 'driver pressed the button',
    actor: { kind: 'user', username: 'op', role: 'operator' }
  })
  await until(() => rx.hits.length === 1)
  t.match(rx.hits[0].json.event, {
    type: 'emergency_stop',
    level: 'critical',
    username: 'op',
    payload: { reason: 'driver pressed the button' }
  })
  t.equal(rx.hits[0].headers['x-autocore-event'], 'emergency_stop')
  t.ok(verifySignature(rx.hits[0], hook.secret) !== undefined)
})

t.test('a slow endpoint holds one slot: others are delivered meanwhile; no answer within timeoutMs is a ' +
  'failure', async t => {
  const slow = await startReceiver(t, () => 'hang')
  const fast = await startReceiver(t)
  const s = await setup(t, { concurrency: 2 })
  const a = await addHook(s, { url: slow.url, events: ['*'] })
  await log(s, { type: 'first' })
  await until(() => slow.hits.length === 1)
  await addHook(s, { url: fast.url, events: ['*'] })
  for (const type of ['second', 'third', 'fourth']) await log(s, { type })
  await until(() => fast.hits.length === 3)
  t.equal(slow.hits.length, 1, 'the slow endpoint still has its one request outstanding')

  await s.clock.tick(10_000)
  await until(async () => (await deliveries(s, a.id)).some(d => d.attempts === 1))
  const first = (await deliveries(s, a.id)).find(d => d.eventType === 'first')
  t.match(first, { status: 'pending', attempts: 1, lastError: 'no answer within 10000 ms' })
})

t.test('concurrency 1: a hanging endpoint holds the only slot until its timeout', async t => {
  const slow = await startReceiver(t, () => 'hang')
  const fast = await startReceiver(t)
  const s = await setup(t, { concurrency: 1, baseDelayMs: 60_000, maxDelayMs: 60_000 })
  const a = await addHook(s, { url: slow.url, events: ['slow'] })
  await log(s, { type: 'slow' })
  await until(() => slow.hits.length === 1)
  await addHook(s, { url: fast.url, events: ['fast'] })
  await log(s, { type: 'fast' })
  await s.clock.tick(9_999)
  await until(async () => (await s.app.gateway.services.repos.outbox.due(s.clock.now(), [a.id], 10)).length === 1)
  // A negative: give a wrongly sent request the time a local round trip takes (the positive case above takes ms).
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal(fast.hits.length, 0, 'the fast delivery is due but waits for the slot')
  await s.clock.tick(1)
  await until(() => fast.hits.length === 1)
})

t.test("src/README.md's verification snippet accepts a real test delivery and refuses a tampered one", async t => {
  const readme = readFileSync(join(packageRoot, 'src', 'README.md'), 'utf8')
  const code = /## Webhooks[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1]
  t.ok(code, 'the snippet is in the Webhooks section')
  // eslint-disable-next-line no-new-func
  const verify = new Function('require', `${code as string}\nreturn verifyAutoCoreSignature`)(
    createRequire(import.meta.url)
  ) as (secret: string, header: string | undefined, body: string | Buffer) => boolean
  const rx = await startReceiver(t)
  const app = await startApp(t) // the real clock: the snippet checks t against now
  const h = harness(app)
  const token = await h.token('admin')
  const hook = (await h.call('POST', '/webhooks', { token, body: { url: rx.url, events: ['nothing_matches_this'] } }))
    .body
  const queued = await h.call('POST', `/webhooks/${hook.id as number}/test`, { token })
  t.equal(queued.status, 202)
  await until(() => rx.hits.length === 1)
  const hit = rx.hits[0]
  t.match(hit.json, {
    deliveryId: queued.body.deliveryId,
    event: { id: queued.body.eventId, type: 'webhook_test', source: 'api', payload: { webhookId: hook.id } }
  })
  const header = hit.headers['x-autocore-signature'] as string
  t.equal(verify(hook.secret, header, hit.body), true)
  t.equal(verify(hook.secret, header, Buffer.from(hit.body)), true, 'a Buffer body too')
  t.equal(verify(hook.secret, header, hit.body.replace('webhook_test', 'webhook_tess')), false)
  t.equal(verify('0'.repeat(64), header, hit.body), false)
  t.equal(verify(hook.secret, undefined, hit.body), false)
  const old = Math.floor(Date.now() / 1000) - 3600
  t.equal(
    verify(
      hook.secret,
      `t=${old},v1=${createHmac('sha256', hook.secret).update(`${old}.${hit.body}`).digest('hex')}`,
      hit.body
    ),
    false,
    'an old t is refused'
  )
  await until(
    async () => (await app.gateway.services.repos.webhooks.delivery(queued.body.deliveryId))?.status === 'delivered'
  )
})

t.test('delivered and failed deliveries are deleted after events.retentionDays; pending ones stay', async t => {
  const rx = await startReceiver(t)
  const clock = new FakeClock()
  const app = await startApp(t, { clock, config: { events: { retentionDays: 1 }, webhooks: BASE.webhooks } })
  const ctx = app.gateway.services
  const live = await ctx.repos.webhooks.create(
    { url: rx.url, secret: 's'.repeat(16), events: ['*'], minLevel: 'info', enabled: true },
    clock.now()
  )
  const off = await ctx.repos.webhooks.create(
    { url: rx.url, secret: 's'.repeat(16), events: ['*'], minLevel: 'info', enabled: false },
    clock.now()
  )
  const sent = await ctx.events.logFor(live.id, { level: 'info', type: 'old', source: 'test' })
  const held = await ctx.events.logFor(off.id, { level: 'info', type: 'old', source: 'test' })
  await until(async () => (await ctx.repos.webhooks.delivery(sent?.deliveryIds[0] as number))?.status === 'delivered')
  await clock.tick(86_400_000 + 3_600_000)
  await until(async () => await ctx.repos.webhooks.delivery(sent?.deliveryIds[0] as number) === null)
  t.ok(await ctx.repos.webhooks.delivery(held?.deliveryIds[0] as number), 'the pending one is kept')
  t.ok(app.logs.some(l => l.msg === 'old webhook deliveries deleted' && l.deleted === 1))
})

t.test('a refused connection and a redirect are failed attempts, with what happened in lastError', async t => {
  const rx = await startReceiver(t, () => 302)
  const s = await setup(t)
  const redirected = await addHook(s, { url: rx.url, events: ['*'] })
  const closed = net.createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise(resolve => closed.close(resolve))
  const refused = await addHook(s, { url: `http://127.0.0.1:${port}/nobody`, events: ['*'] })
  const badPort = await addHook(s, { url: 'http://127.0.0.1:9/discard', events: ['*'] })
  await log(s, { type: 'x' })
  await until(
    async () =>
      (await deliveries(s, redirected.id))[0].attempts === 1 && (await deliveries(s, refused.id))[0].attempts === 1
  )
  t.match(
    (await deliveries(s, redirected.id))[0],
    { status: 'pending', lastError: 'HTTP 302: nope 302' },
    'the redirect was not followed'
  )
  t.match((await deliveries(s, refused.id))[0], {
    status: 'pending',
    lastError: `fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`
  })
  await until(async () => (await deliveries(s, badPort.id))[0].attempts === 1)
  t.match(
    (await deliveries(s, badPort.id))[0],
    { lastError: 'fetch failed: bad port' },
    'fetch refuses the Fetch standard\'s blocked ports'
  )
  t.equal(rx.hits.length, 1)
})

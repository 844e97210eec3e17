import 'reflect-metadata'
import t, { type Test } from 'tap'
import { DataSource } from 'typeorm'
import { entities } from '../../entities/index.js'
import { migrations } from '../../src/persistence/migrations/index.js'
import { WebhookOutboxRepository } from '../../src/persistence/repositories/webhook-outbox.js'
import { WebhooksRepository } from '../../src/persistence/repositories/webhooks.js'
import { pgDataSource } from '../helpers/pg.js'

// The outbox SQL on both engines: SQLite takes the synchronous native path, PostgreSQL TypeORM's transaction.

const T0 = Date.UTC(2026, 0, 1)

async function exercise (t: Test, ds: DataSource): Promise<void> {
  const hooks = new WebhooksRepository(ds)
  const outbox = new WebhookOutboxRepository(ds)
  const fields = { url: 'http://127.0.0.1:9/x', secret: 's'.repeat(16), minLevel: 'info' as const, enabled: true }
  const a = await hooks.create({ ...fields, events: ['door_*'] }, T0)
  const b = await hooks.create({ ...fields, events: ['*'] }, T0)
  const off = await hooks.create({ ...fields, events: ['*'], enabled: false }, T0)
  const match = (h: { events: string[] }): boolean => h.events.includes('*') || h.events.includes('door_*')
  const body = (eventId: number, deliveryId: number): string =>
    JSON.stringify({ deliveryId, event: { id: eventId, type: 'door_opened' } })

  const e = { ts: T0, level: 'info' as const, eventType: 'door_opened', source: 'test', payload: { n: 1 } }
  const first = await outbox.insertEvent(e, { match, body })
  t.equal(first.deliveryIds.length, 2, 'the enabled webhooks that match')
  const stored = await Promise.all(first.deliveryIds.map(id => hooks.delivery(id)))
  t.same(stored.map(d => d?.webhookId), [a.id, b.id])
  t.same(
    stored.map(d => JSON.parse(d?.payload ?? '')),
    first.deliveryIds.map(id => ({ deliveryId: id, event: { id: first.eventId, type: 'door_opened' } })),
    'each body names its own delivery'
  )
  t.match(stored[0], { status: 'pending', attempts: 0, nextAttemptAt: T0, createdAt: T0, eventId: first.eventId })
  const rows = await ds.query('SELECT payload, event_type FROM event_logs')
  t.same(
    rows.map((r: { payload: string, event_type: string }) => [r.event_type, JSON.parse(r.payload)]),
    [['door_opened', { n: 1 }]]
  )

  const only = await outbox.insertEvent(
    { ...e, eventType: 'webhook_test', payload: undefined },
    { match: () => false, body, only: off.id }
  )
  t.equal(only.deliveryIds.length, 1, '`only` targets one webhook, whatever its filter or state')
  t.equal((await hooks.delivery(only.deliveryIds[0]))?.webhookId, off.id)

  const due = await outbox.due(T0, [], 10)
  t.same(
    due.map(d => [d.id, d.webhookId]),
    [
      [first.deliveryIds[0], a.id],
      [first.deliveryIds[1], b.id]
    ],
    'one per enabled webhook, oldest first'
  )
  t.match(due[0], { url: fields.url, secret: fields.secret, attempts: 0, failureCount: 0 })
  t.same((await outbox.due(T0, [a.id], 10)).map(d => d.webhookId), [b.id], 'busy webhooks are skipped')
  t.same(await outbox.due(T0 - 1, [], 10), [], 'nothing due before its time')
  t.equal(await outbox.nextDueAt([]), T0)

  await outbox.recordAttempt(
    { id: due[0].id, webhookId: a.id },
    { status: 'pending', attempts: 1, lastError: 'HTTP 500', at: T0, nextAttemptAt: T0 + 500 },
    { failureCount: 1, circuitOpenUntil: T0 + 9000 }
  )
  await outbox.recordAttempt(
    { id: due[1].id, webhookId: b.id },
    { status: 'delivered', attempts: 1, lastError: null, at: T0 + 10 },
    { failureCount: 0, circuitOpenUntil: null }
  )
  t.equal(await outbox.nextDueAt([]), T0 + 9000, 'an open circuit holds past the backoff')
  t.equal(await outbox.nextDueAt([a.id]), undefined)
  t.same(await outbox.due(T0 + 8999, [], 10), [])
  t.same((await outbox.due(T0 + 9000, [], 10)).map(d => d.id), [due[0].id])
  t.match(await hooks.delivery(due[1].id), { status: 'delivered', deliveredAt: T0 + 10, attempts: 1 })

  await outbox.recordAttempt(
    { id: due[0].id, webhookId: a.id },
    { status: 'failed', attempts: 2, lastError: 'HTTP 500', at: T0 },
    { failureCount: 2, circuitOpenUntil: null }
  )
  t.match(await hooks.delivery(due[0].id), { status: 'failed', nextAttemptAt: T0 + 500 })
  t.equal(await hooks.requeue(due[0].id, T0 + 20), true)
  t.equal(await hooks.requeue(due[0].id, T0 + 20), false, 'only a failed one')
  t.match(await hooks.delivery(due[0].id), { status: 'pending', attempts: 0, nextAttemptAt: T0 + 20 })
  t.match(await hooks.deliveries(a.id, { status: 'pending', limit: 10, offset: 0 }), { total: 1 })

  t.equal(await outbox.prune(T0 + 1, 1), 1, 'the delivered one')
  t.equal(await hooks.delivery(due[1].id), null)
  t.equal(await hooks.remove(a.id), true)
  t.equal(await hooks.delivery(due[0].id), null, 'deliveries go with their webhook')
}

t.test('the outbox on SQLite', async t => {
  const ds = new DataSource({
    type: 'better-sqlite3',
    database: `${t.testdir()}/db.sqlite`,
    entities,
    migrations,
    prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
      db.pragma('foreign_keys = ON')
    }
  })
  t.teardown(async () => { if (ds.isInitialized) await ds.destroy() })
  await ds.initialize()
  await ds.runMigrations()
  await exercise(t, ds)
})

const url = process.env.AUTOCORE_TEST_PG_URL
if (url === undefined || url === '') {
  t.pass('AUTOCORE_TEST_PG_URL is unset: the outbox on PostgreSQL needs a server and did not run')
} else {
  t.test('the outbox on PostgreSQL', async t => {
    const ds = await pgDataSource(t, url)
    await exercise(t, ds)
  })
}

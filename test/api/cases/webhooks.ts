import { WebhookDelivery } from '../../../entities/webhook-delivery.js'
import type { RunningApp } from '../../helpers/app.js'
import type { Cases } from './harness.js'

// Nothing listens on the discard port: a delivery there fails fast. Most cases use a disabled webhook, so the
// delivery service leaves their rows alone while the case sets them up.
const URL = 'http://127.0.0.1:9/hook'
const SECRET = 'case-secret-0123456789'

async function webhook (app: RunningApp, enabled = false): Promise<number> {
  const ctx = app.gateway.services
  return (
    await ctx.repos.webhooks.create(
      { url: URL, secret: SECRET, events: ['*'], minLevel: 'info', enabled },
      ctx.clock.now()
    )
  ).id
}

/** A queued delivery of a disabled webhook, optionally marked failed. */
async function delivery (app: RunningApp, status: 'pending' | 'failed'): Promise<{ hookId: number, id: number }> {
  const ctx = app.gateway.services
  const hookId = await webhook(app)
  const r = await ctx.events.logFor(hookId, { level: 'info', type: 'case_event', source: 'test' })
  const id = r?.deliveryIds[0] as number
  if (status === 'failed') {
    await ctx.db.dataSource
      .getRepository(WebhookDelivery)
      .update({ id }, { status: 'failed', attempts: 3, lastError: 'HTTP 500' })
  }
  return { hookId, id }
}

const missing = async (): Promise<{ params: { id: number } }> => ({ params: { id: 999999 } })

export const webhooksCases: Cases = {
  'webhooks.list': {
    happy: async h => {
      const id = await webhook(h.app)
      return {
        check: (t, res) => {
          const item = res.body.items.find((w: { id: number }) => w.id === id)
          t.match(item, { id, url: URL, events: ['*'], enabled: false, circuit: 'closed' })
          t.notOk('secret' in item, 'the secret is never listed')
        }
      }
    }
  },
  'webhooks.get': {
    happy: async h => {
      const id = await webhook(h.app)
      return {
        params: { id },
        check: (t, res) => {
          t.match(res.body, { id, url: URL, minLevel: 'info' })
          t.notOk('secret' in res.body)
        }
      }
    },
    notFound: missing
  },
  'webhooks.create': {
    happy: async () => ({
      body: { url: 'https://example.test/in', events: ['device_*', 'emergency_stop'], minLevel: 'warning' },
      check: async (t, res) => {
        t.match(res.body, { url: 'https://example.test/in', events: ['device_*', 'emergency_stop'], minLevel: 'warning', enabled: true, circuit: 'closed' })
        t.match(res.body.secret, /^[0-9a-f]{64}$/, 'a generated secret is answered once')
      }
    })
  },
  'webhooks.update': {
    happy: async h => {
      const id = await webhook(h.app)
      return {
        params: { id },
        body: { events: ['emergency_*'], minLevel: 'critical' },
        check: async (t, res) => {
          t.match(res.body, { id, events: ['emergency_*'], minLevel: 'critical', enabled: false })
          t.match(await h.app.gateway.services.repos.webhooks.get(id), {
            events: ['emergency_*'],
            minLevel: 'critical',
            secret: SECRET
          })
        }
      }
    },
    notFound: async () => ({ params: { id: 999999 }, body: { enabled: true } })
  },
  'webhooks.delete': {
    happy: async h => {
      const { hookId, id } = await delivery(h.app, 'pending')
      return {
        params: { id: hookId },
        check: async (t) => {
          t.equal(await h.app.gateway.services.repos.webhooks.get(hookId), null)
          t.equal(await h.app.gateway.services.repos.webhooks.delivery(id), null, 'its deliveries went with it')
        }
      }
    },
    notFound: missing
  },
  'webhooks.deliveries': {
    happy: async h => {
      const { hookId, id } = await delivery(h.app, 'failed')
      return {
        params: { id: hookId },
        query: { status: 'failed' },
        check: (t, res) =>
          t.match(res.body, {
            total: 1,
            items: [
              {
                id,
                webhookId: hookId,
                eventType: 'case_event',
                status: 'failed',
                attempts: 3,
                lastError: 'HTTP 500',
                nextAttemptAt: null,
                deliveredAt: null
              }
            ]
          })
      }
    },
    notFound: missing
  },
  'webhooks.test': {
    happy: async h => {
      const id = await webhook(h.app, true)
      return {
        params: { id },
        check: async (t, res) => {
          const d = await h.app.gateway.services.repos.webhooks.delivery(res.body.deliveryId)
          t.match(d, { webhookId: id, eventId: res.body.eventId })
          t.match(JSON.parse(d?.payload ?? '{}'), {
            deliveryId: res.body.deliveryId,
            event: { type: 'webhook_test', payload: { webhookId: id } }
          })
        }
      }
    },
    notFound: missing,
    conflict: async h => ({ params: { id: await webhook(h.app, false) } })
  },
  'webhooks.retry': {
    happy: async h => {
      const { id } = await delivery(h.app, 'failed')
      return {
        params: { id },
        check: (t, res) =>
          t.match(res.body, { id, status: 'pending', attempts: 0, lastError: 'HTTP 500', nextAttemptAt: String })
      }
    },
    notFound: missing,
    conflict: async h => ({ params: { id: (await delivery(h.app, 'pending')).id } })
  }
}

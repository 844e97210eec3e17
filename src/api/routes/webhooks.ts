import { randomBytes } from 'node:crypto'
import type { EventLevel } from '../../../entities/event-log.js'
import type { WebhookDelivery, WebhookDeliveryStatus } from '../../../entities/webhook-delivery.js'
import type { Webhook } from '../../../entities/webhook.js'
import type { Services } from '../../services/index.js'
import { GatewayError } from '../../errors.js'
import type { WebhookFields } from '../../persistence/repositories/webhooks.js'
import { circuitState } from '../../services/webhook-policy.js'
import { eventTypeOf } from '../../services/webhook-wire.js'
import { creates, pageOf, pageQuery, route, type Page, type RouteSpec } from '../route-table.js'
import { STATUSES, fields, webhookSchema, deliverySchema, idParams, common } from './webhook-schemas.js'

function view (app: Services, h: Webhook): Record<string, unknown> {
  return {
    id: h.id,
    url: h.url,
    events: h.events,
    minLevel: h.minLevel,
    enabled: h.enabled,
    createdAt: new Date(h.createdAt).toISOString(),
    circuit: circuitState(h, app.config.webhooks.breakerThreshold, app.clock.now()),
    failureCount: h.failureCount,
    circuitOpenUntil: h.circuitOpenUntil === null ? null : new Date(h.circuitOpenUntil).toISOString()
  }
}

function deliveryView (d: WebhookDelivery): Record<string, unknown> {
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    eventType: eventTypeOf(d.payload),
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? new Date(d.nextAttemptAt).toISOString() : null,
    lastError: d.lastError,
    createdAt: new Date(d.createdAt).toISOString(),
    deliveredAt: d.deliveredAt === null ? null : new Date(d.deliveredAt).toISOString()
  }
}

async function found (app: Services, id: number): Promise<Webhook> {
  const hook = await app.repos.webhooks.get(id)
  if (hook === null) throw new GatewayError('GW_ERR_WEBHOOK_NOT_FOUND', `no webhook ${id}`)
  return hook
}

/** The schema admits only `http(s)://…`; this refuses what still is no URL (`http://`, `https://a b`). */
function checkUrl (url: string | undefined): void {
  if (url === undefined) return
  let ok = false
  try {
    const u = new URL(url)
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {}
  if (!ok) {
    throw new GatewayError('GW_ERR_HTTP_VALIDATION', 'invalid body: /url must be an http(s) URL', [
      { in: 'body', field: '/url', message: 'must be an http(s) URL' }
    ])
  }
}

type Create = Omit<WebhookFields, 'secret' | 'minLevel' | 'enabled'> & {
  secret?: string
  minLevel: EventLevel
  enabled: boolean
}

/**
 * `/webhooks` (admin): endpoints with event filters, their delivery status, test and retry. The secret signs the
 * deliveries, so it is stored; it is answered once, when the gateway generated it, and never again.
 */
export const webhooksRoutes: RouteSpec[] = [
  route<Record<string, never>, Page>({
    ...common,
    id: 'webhooks.list',
    method: 'GET',
    path: '/webhooks',
    summary: 'Every webhook, with its circuit breaker state',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(webhookSchema),
    handler: async (req, app) => {
      const { items, total } = await app.repos.webhooks.list(req.query)
      return { items: items.map(h => view(app, h)), total, limit: req.query.limit, offset: req.query.offset }
    }
  }),
  route<{ id: number }>({
    ...common,
    id: 'webhooks.get',
    method: 'GET',
    path: '/webhooks/:id',
    summary: 'One webhook',
    params: idParams,
    response: webhookSchema,
    errors: ['GW_ERR_WEBHOOK_NOT_FOUND'],
    handler: async (req, app) => view(app, await found(app, req.params.id))
  }),
  route<Record<string, never>, Record<string, never>, Create>({
    ...common,
    ...creates,
    id: 'webhooks.create',
    path: '/webhooks',
    summary: 'A new webhook; the answer carries the secret only when the gateway generated it',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'events'],
      properties: {
        ...fields,
        minLevel: { ...fields.minLevel, default: 'info' },
        enabled: { ...fields.enabled, default: true }
      }
    },
    response: {
      ...webhookSchema,
      properties: {
        ...webhookSchema.properties,
        secret: { type: 'string', description: 'only when generated: shown this once' }
      }
    },
    handler: async (req, app) => {
      checkUrl(req.body.url)
      const generated = req.body.secret === undefined ? randomBytes(32).toString('hex') : undefined
      const hook = await app.repos.webhooks.create(
        { ...req.body, secret: req.body.secret ?? (generated as string) },
        app.clock.now()
      )
      return { ...view(app, hook), ...(generated === undefined ? {} : { secret: generated }) }
    }
  }),
  route<{ id: number }, Record<string, never>, Partial<WebhookFields>>({
    ...common,
    id: 'webhooks.update',
    method: 'PATCH',
    path: '/webhooks/:id',
    summary: 'Changes a webhook; a new URL or re-enabling closes its circuit',
    params: idParams,
    body: { type: 'object', additionalProperties: false, minProperties: 1, properties: fields },
    response: webhookSchema,
    errors: ['GW_ERR_WEBHOOK_NOT_FOUND'],
    handler: async (req, app) => {
      checkUrl(req.body.url)
      const hook = await app.repos.webhooks.update(req.params.id, req.body)
      if (hook === null) throw new GatewayError('GW_ERR_WEBHOOK_NOT_FOUND', `no webhook ${req.params.id}`)
      // Re-enabled, or its circuit closed: what it held may be due now.
      app.bus.emit('webhooks.queued', { count: 0 })
      return view(app, hook)
    }
  }),
  route<{ id: number }>({
    ...common,
    id: 'webhooks.delete',
    method: 'DELETE',
    path: '/webhooks/:id',
    status: 204,
    summary: 'Deletes a webhook and its deliveries',
    params: idParams,
    errors: ['GW_ERR_WEBHOOK_NOT_FOUND'],
    handler: async (req, app) => {
      if (!(await app.repos.webhooks.remove(req.params.id))) {
        throw new GatewayError('GW_ERR_WEBHOOK_NOT_FOUND', `no webhook ${req.params.id}`)
      }
    }
  }),
  route<{ id: number }, Page & { status?: WebhookDeliveryStatus }>({
    ...common,
    id: 'webhooks.deliveries',
    method: 'GET',
    path: '/webhooks/:id/deliveries',
    summary: 'A webhook\'s deliveries, newest first: status, attempts, next attempt, last error',
    params: idParams,
    query: {
      type: 'object',
      additionalProperties: false,
      properties: { status: { type: 'string', enum: STATUSES }, ...pageQuery }
    },
    response: pageOf(deliverySchema),
    errors: ['GW_ERR_WEBHOOK_NOT_FOUND'],
    handler: async (req, app) => {
      await found(app, req.params.id)
      const { items, total } = await app.repos.webhooks.deliveries(req.params.id, req.query)
      return { items: items.map(deliveryView), total, limit: req.query.limit, offset: req.query.offset }
    }
  }),
  route<{ id: number }>({
    ...common,
    id: 'webhooks.test',
    method: 'POST',
    path: '/webhooks/:id/test',
    status: 202,
    summary: 'Queues a `webhook_test` event for this webhook alone, whatever its filter',
    params: idParams,
    response: {
      type: 'object',
      required: ['eventId', 'deliveryId'],
      properties: { eventId: { type: 'integer' }, deliveryId: { type: 'integer' } }
    },
    errors: ['GW_ERR_WEBHOOK_NOT_FOUND', 'GW_ERR_WEBHOOK_DISABLED', 'GW_ERR_HTTP_INTERNAL'],
    handler: async (req, app) => {
      const hook = await found(app, req.params.id)
      if (!hook.enabled) throw new GatewayError('GW_ERR_WEBHOOK_DISABLED', `webhook ${hook.id} is disabled`)
      const r = await app.events.logFor(hook.id, {
        level: 'info',
        type: 'webhook_test',
        source: 'api',
        action: 'test',
        target: `webhook:${hook.id}`,
        username: req.user.username,
        payload: { webhookId: hook.id }
      })
      if (r === undefined) throw new GatewayError('GW_ERR_HTTP_INTERNAL')
      if (r.deliveryIds.length === 0) throw new GatewayError('GW_ERR_WEBHOOK_NOT_FOUND', `no webhook ${hook.id}`)
      return { eventId: r.message.id, deliveryId: r.deliveryIds[0] }
    }
  }),
  route<{ id: number }>({
    ...common,
    id: 'webhooks.retry',
    method: 'POST',
    path: '/webhooks/deliveries/:id/retry',
    summary: 'Queues a failed delivery again, due now, with a fresh set of attempts',
    params: idParams,
    response: deliverySchema,
    errors: ['GW_ERR_WEBHOOK_DELIVERY_NOT_FOUND', 'GW_ERR_WEBHOOK_DELIVERY_NOT_FAILED'],
    handler: async (req, app) => {
      const id = req.params.id
      if (!await app.repos.webhooks.requeue(id, app.clock.now())) {
        const d = await app.repos.webhooks.delivery(id)
        if (d === null) throw new GatewayError('GW_ERR_WEBHOOK_DELIVERY_NOT_FOUND', `no webhook delivery ${id}`)
        throw new GatewayError('GW_ERR_WEBHOOK_DELIVERY_NOT_FAILED', `delivery ${id} is ${d.status}, not failed`)
      }
      app.bus.emit('webhooks.queued', { count: 1 })
      return deliveryView(await app.repos.webhooks.delivery(id) as WebhookDelivery)
    }
  })
]

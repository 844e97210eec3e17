// The schemas of /webhooks and their deliveries (routes in webhooks.ts).
import type { WebhookDeliveryStatus } from '../../../entities/webhook-delivery.js'
import { EVENT_LEVELS } from '../../services/webhook-policy.js'

export const STATUSES: WebhookDeliveryStatus[] = ['pending', 'delivered', 'failed']
export const iso = { type: 'string', format: 'date-time' }
export const isoOrNull = { type: ['string', 'null'], format: 'date-time' }

export const fields = {
  url: {
    type: 'string',
    minLength: 10,
    maxLength: 2048,
    pattern: '^https?://',
    description: 'where events are POSTed: an http or https URL'
  },
  events: {
    type: 'array',
    minItems: 1,
    maxItems: 64,
    uniqueItems: true,
    items: { type: 'string', pattern: '^[A-Za-z0-9_.:*-]{1,64}$' },
    description: 'event types to deliver; `*` matches any run of characters (`["*"]` = every event, `["device_*"]`)'
  },
  minLevel: {
    type: 'string',
    enum: EVENT_LEVELS,
    description: 'events below this level are not delivered (default info: all)'
  },
  secret: {
    type: 'string',
    minLength: 16,
    maxLength: 256,
    description: 'HMAC-SHA256 signing key; generated (and answered once) when absent'
  },
  enabled: { type: 'boolean', description: 'a disabled webhook gets no new deliveries and its queued ones wait' }
}

export const webhookSchema = {
  type: 'object',
  required: ['id', 'url', 'events', 'minLevel', 'enabled', 'createdAt', 'circuit', 'failureCount', 'circuitOpenUntil'],
  properties: {
    id: { type: 'integer' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string' } },
    minLevel: { type: 'string', enum: EVENT_LEVELS },
    enabled: { type: 'boolean' },
    createdAt: iso,
    circuit: { type: 'string', enum: ['closed', 'open', 'half-open'] },
    failureCount: { type: 'integer', description: 'consecutive failed attempts' },
    circuitOpenUntil: isoOrNull
  }
}

export const deliverySchema = {
  type: 'object',
  required: [
    'id',
    'webhookId',
    'eventId',
    'eventType',
    'status',
    'attempts',
    'nextAttemptAt',
    'lastError',
    'createdAt',
    'deliveredAt'
  ],
  properties: {
    id: { type: 'integer', description: 'the X-AutoCore-Delivery id' },
    webhookId: { type: 'integer' },
    eventId: { type: ['integer', 'null'] },
    eventType: { type: 'string' },
    status: { type: 'string', enum: STATUSES },
    attempts: { type: 'integer' },
    nextAttemptAt: {
      ...isoOrNull,
      description: 'when a pending delivery is tried next (an open circuit may hold it longer)'
    },
    lastError: { type: ['string', 'null'] },
    createdAt: iso,
    deliveredAt: isoOrNull
  }
}

export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } }
export const common = { tag: 'webhooks', role: 'admin' } as const

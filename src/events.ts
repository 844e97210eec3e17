import { EventEmitter } from 'node:events'

/** Every in-process event and its payload. Services talk through this bus, never through each other's fields. */
export interface EventMap {
  'client.connected': [{ clientId: string, username?: string, remoteAddress?: string }]
  'client.disconnected': [{ clientId: string }]
  'gateway.started': [{ gatewayId: string, startedAt: number }]
  'gateway.stopping': [{ gatewayId: string }]
  /** A CONNECT refused (CONNACK 2, 4 or 5); throttled = refused unchecked during a penalty window. */
  'mqtt.auth_failed': [{ clientId: string, username?: string, remoteAddress?: string, returnCode: number, reason: string, throttled: boolean, penaltyStarted: boolean }]
  /** A publish (connection closed) or subscribe (SUBACK 0x80) refused by the ACL. */
  'mqtt.acl_denied': [{ clientId: string, username?: string, action: 'publish' | 'subscribe', topic: string, reason: string }]
  /** A publish on an allowed topic dropped for its payload (size, JSON, schema). */
  'mqtt.payload_invalid': [{ clientId: string, topic: string, reason: string, deviceUuid?: string }]
  /** Presence transitions (services/presence.ts). */
  /** A device's own publish on its status topic (its Last Will included), from gateway/handlers/devices.ts. */
  'device.status_reported': [{ uuid: string, status: 'online' | 'offline', retain: boolean }]
  'device.online': [{ uuid: string, ipAddress?: string }]
  'device.offline': [{ uuid: string, reason: 'will' | 'disconnect' | 'timeout' | 'status' }]
  /** Webhook deliveries were written to the outbox (services/events.ts, the API): the delivery service wakes. */
  'webhooks.queued': [{ count: number }]
}

export type EventBus = EventEmitter<EventMap>

export function createEventBus (): EventBus {
  return new EventEmitter<EventMap>({ captureRejections: true })
}

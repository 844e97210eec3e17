import { EventEmitter } from 'node:events'

/** Every in-process event and its payload. Services talk through this bus, never through each other's fields. */
export interface EventMap {
  'client.connected': [{ clientId: string, username?: string, remoteAddress?: string }]
  'client.disconnected': [{ clientId: string }]
  'gateway.started': [{ gatewayId: string, startedAt: number }]
  'gateway.stopping': [{ gatewayId: string }]
  /** A CONNECT refused (CONNACK 2, 4 or 5); throttled = refused unchecked during a penalty window. */
  'mqtt.auth_failed': [
    {
      clientId: string
      username?: string
      remoteAddress?: string
      returnCode: number
      reason: string
      throttled: boolean
      penaltyStarted: boolean
    }
  ]
  /** A publish (connection closed) or subscribe (SUBACK 0x80) refused by the ACL. */
  'mqtt.acl_denied': [
    { clientId: string, username?: string, action: 'publish' | 'subscribe', topic: string, reason: string }
  ]
  /** A publish on an allowed topic dropped for its payload (size, JSON, schema). */
  'mqtt.payload_invalid': [
    { clientId: string, topic: string, reason: string, deviceUuid?: string, kind: PayloadRefusal }
  ]
  /** Presence transitions (services/presence.ts). */
  /** A device's own publish on its status topic (its Last Will included), from gateway/handlers/devices.ts. */
  'device.status_reported': [{ uuid: string, status: 'online' | 'offline', retain: boolean }]
  'device.online': [{ uuid: string, ipAddress?: string }]
  'device.offline': [{ uuid: string, reason: 'will' | 'disconnect' | 'timeout' | 'status' | 'restart' }]
  /** A device deleted (API): services drop what they cached about it. */
  'device.deleted': [{ uuid: string }]
  /** `POST /api/v1/auth/login` refused: bad credentials, or throttled (refused unchecked during a penalty). */
  'http.login_failed': [{ username: string, remoteAddress: string, throttled: boolean }]
  /**
   * A command reached its final status (services/commands.ts). latencyMs: last send → the device's response
   * (acked, failed; what the commands row stores); elapsedMs: created → final status (every outcome).
   */
  'command.finished': [
    {
      commandId: string
      deviceUuid: string
      command: string
      status: 'acked' | 'failed' | 'timeout' | 'expired'
      latencyMs?: number
      elapsedMs: number
    }
  ]
  /** The emergency stop's state: set at start (from the store), on trigger and on reset (services/emergency.ts). */
  'emergency.changed': [{ active: boolean }]
  /** Webhook deliveries were written to the outbox (services/events.ts, the API): the delivery service wakes. */
  'webhooks.queued': [{ count: number }]
}

/** Why the payload guard dropped a publish: over mqtt.maxPayloadBytes, not JSON, or failing its family's schema. */
export type PayloadRefusal = 'too_large' | 'not_json' | 'schema'

export type EventBus = EventEmitter<EventMap>

export function createEventBus (): EventBus {
  return new EventEmitter<EventMap>({ captureRejections: true })
}

/** Listeners by event name, for a service that hears several events. */
export type Listeners = { [K in keyof EventMap]?: (...args: EventMap[K]) => void }

/** Puts every listener of the table on the bus; returns what takes them all off again. */
export function listen (bus: EventBus, listeners: Listeners): () => void {
  const entries = Object.entries(listeners) as Array<[keyof EventMap, (...args: unknown[]) => void]>
  for (const [name, fn] of entries) bus.on(name, fn)
  return () => {
    for (const [name, fn] of entries) bus.off(name, fn)
  }
}

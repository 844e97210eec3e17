import { EventEmitter } from 'node:events'

/** Every in-process event and its payload. Services talk through this bus, never through each other's fields. */
export interface EventMap {
  'client.connected': [{ clientId: string, username?: string, remoteAddress?: string }]
  'client.disconnected': [{ clientId: string }]
  'gateway.started': [{ gatewayId: string, startedAt: number }]
  'gateway.stopping': [{ gatewayId: string }]
  /** A device became reachable / unreachable (presence); the commands service sends or holds its queue. */
  'device.online': [{ uuid: string }]
  'device.offline': [{ uuid: string }]
}

export type EventBus = EventEmitter<EventMap>

export function createEventBus (): EventBus {
  return new EventEmitter<EventMap>({ captureRejections: true })
}

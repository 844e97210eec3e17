import type { Aedes, Client } from 'aedes'
import type { EventBus } from '../events.js'

/**
 * Puts Aedes' connection events on the bus as `client.connected` / `client.disconnected` (a destroyed socket
 * counts: Aedes emits 'clientDisconnect' when the connection of a connected client closes for any reason).
 * Returns the function that detaches them.
 */
export function forwardClientEvents (aedes: Aedes, bus: EventBus): () => void {
  const connected = (client: Client): void => { bus.emit('client.connected', { clientId: client.id }) }
  const disconnected = (client: Client): void => { bus.emit('client.disconnected', { clientId: client.id }) }
  aedes.on('client', connected)
  aedes.on('clientDisconnect', disconnected)
  return () => {
    aedes.off('client', connected)
    aedes.off('clientDisconnect', disconnected)
  }
}

import type { Aedes, Client } from 'aedes'
import type { Principal } from '../auth/principal.js'

/** Every connected client with its principal (clients not yet authenticated have none and are left out). */
export function liveSessions (
  aedes: Aedes,
  principalOf: (client: Client) => Principal | undefined
): Array<{ client: Client, principal: Principal }> {
  // Aedes keeps its connected clients by client id (not in its types).
  const out: Array<{ client: Client, principal: Principal }> = []
  for (const client of Object.values((aedes as unknown as { clients: Record<string, Client | undefined> }).clients)) {
    const principal = client === undefined ? undefined : principalOf(client)
    if (client !== undefined && principal !== undefined) out.push({ client, principal })
  }
  return out
}

/**
 * Closes the live MQTT connections whose principal matches. Rights are granted at CONNECT, so a device disabled or
 * deleted, or a user disabled, deleted or given another role, is disconnected at once, and checked anew if it
 * connects again. With `forgetWill`, the connection closes as a clean DISCONNECT would: its will is dropped and
 * deleted from the store [MQTT-3.14.4-3] (a deleted device must not announce itself offline afterwards).
 * Returns how many connections were closed.
 */
export function closeSessions (
  aedes: Aedes,
  principalOf: (client: Client) => Principal | undefined,
  match: (p: Principal) => boolean,
  opts: { forgetWill?: boolean } = {}
): number {
  let closed = 0
  for (const { client, principal } of liveSessions(aedes, principalOf)) {
    if (!match(principal)) continue
    if (opts.forgetWill === true) (client as unknown as { _disconnected: boolean })._disconnected = true
    client.close()
    closed++
  }
  return closed
}

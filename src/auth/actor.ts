import type { Client } from 'aedes'

/**
 * Who acts, as the control services see it, derived from the publishing client's principal (read structurally).
 * The ACL (auth/acl.ts) already refuses control topics to the wrong identities; these rules repeat SPEC §3 so
 * the services (and the HTTP API) decide the same way. Anonymous clients (mqtt.allowAnonymous) control nothing.
 */
export type Actor = (
  | { kind: 'user', username: string, role: 'viewer' | 'operator' | 'admin' }
  | { kind: 'device', uuid: string, capabilities: string[] }
  | { kind: 'anonymous', clientId: string }
  | { kind: 'gateway' }
  | { kind: 'other', clientId: string }
) & { via?: Via }

/** How an action reached the gateway (the control journal's `transport`). */
export type Transport = 'api' | 'mqtt' | 'ws' | 'cli' | 'gateway-internal'

/** Through what, and from where (the remote address, when there is one). */
export interface Via { transport: Transport, address?: string }

/** The gateway itself (timers, reconcile, restart recovery). */
export const GATEWAY: Actor = { kind: 'gateway', via: { transport: 'gateway-internal' } }

/** A principal (auth/principal.ts) read structurally: whatever is missing or unknown grants nothing. */
interface LoosePrincipal {
  kind: string
  clientId?: string
  username?: string
  role?: string
  uuid?: string
  capabilities?: readonly string[]
}

/** The actor behind an authenticated MQTT identity (undefined: none known, which controls nothing). */
export function actorFromPrincipal (principal: LoosePrincipal | undefined, clientId: string): Actor {
  if (principal === undefined) return { kind: 'other', clientId }
  if (principal.kind === 'user' && principal.username !== undefined) {
    const role = principal.role === 'admin' || principal.role === 'operator' ? principal.role : 'viewer'
    return { kind: 'user', username: principal.username, role }
  }
  if (principal.kind === 'device') {
    return { kind: 'device', uuid: principal.uuid ?? clientId, capabilities: [...(principal.capabilities ?? [])] }
  }
  if (principal.kind === 'anonymous') return { kind: 'anonymous', clientId }
  return { kind: 'other', clientId }
}

/** The actor behind an API request: the user the Bearer token belongs to (its role as stored now). */
export function userActor (user: { username: string, role: 'viewer' | 'operator' | 'admin' }, address?: string):
Actor {
  return { kind: 'user', username: user.username, role: user.role, via: { transport: 'api', address } }
}

/** How a connected MQTT client reaches the broker: over a WebSocket (Aedes keeps its HTTP request) or plain MQTT. */
export function viaOf (client: Client | undefined): Via {
  type Peer = { req?: { socket?: { remoteAddress?: string } }, conn?: { remoteAddress?: string } }
  const c = client as unknown as Peer | undefined
  if (c?.req !== undefined) return { transport: 'ws', address: c.req.socket?.remoteAddress }
  return { transport: 'mqtt', address: c?.conn?.remoteAddress }
}

/** The actor behind an MQTT publish: its sender's principal, through its connection (client). */
export function senderActor (principal: LoosePrincipal & { clientId: string }, client: Client | undefined): Actor {
  return { ...actorFromPrincipal(principal, client?.id ?? principal.clientId), via: viaOf(client) }
}

/** The user name recorded on commands and events, if the actor is a user. */
export function usernameOf (actor: Actor): string | undefined {
  return actor.kind === 'user' ? actor.username : undefined
}

/** A short label for `source` columns: `user:alice`, `device:<uuid>`, `mqtt:<clientId>`, `gateway`. */
export function sourceOf (actor: Actor): string {
  switch (actor.kind) {
    case 'user': return `user:${actor.username}`
    case 'device': return `device:${actor.uuid}`
    case 'gateway': return 'gateway'
    default: return `mqtt:${actor.clientId}`
  }
}

/** Operators and admins control relays and macros (and the gateway itself). */
export function mayControl (actor: Actor): boolean {
  if (actor.kind === 'user') return actor.role !== 'viewer'
  return actor.kind === 'gateway'
}

/** Emergency stop: operators, admins, devices with the emergency_button capability (SPEC §3). */
export function mayStop (actor: Actor): boolean {
  if (actor.kind === 'device') return actor.capabilities.includes('emergency_button')
  return mayControl(actor)
}

/** Emergency reset: admins only (and the gateway itself). */
export function mayReset (actor: Actor): boolean {
  if (actor.kind === 'user') return actor.role === 'admin'
  return actor.kind === 'gateway'
}

import type { AedesOptions, Client, Subscription } from 'aedes'
import { authorize } from '../auth/acl.js'
import type { Principal } from '../auth/principal.js'
import type { ClientState, Denied, HookDeps, LimitName, SubscriptionStore } from './hook-types.js'

/**
 * The subscribe side of the hooks: the per-SUBSCRIBE and per-client limits, the access decision per filter, and
 * which granted subscriptions a persistent session may store.
 */
/** What the subscribe side reads of the hooks' per-client state. */
export interface SubscribeParts {
  principalOf: (client: Client) => Principal | undefined
  stateOf: (client: Client) => ClientState
  store: () => SubscriptionStore | undefined
}

export interface SubscribePath {
  authorizeSubscribe: NonNullable<AedesOptions['authorizeSubscribe']>
  watchPackets: (client: Client) => void
  storable: <S extends object>(subs: readonly S[]) => S[]
}

export function createSubscribePath (
  deps: HookDeps, refusals: Record<LimitName, number>, denied: Denied, parts: SubscribeParts
): SubscribePath {
  const { log, aclRules, limits } = deps
  // Subscriptions (objects of a SUBSCRIBE packet) granted, stored, and refused for a limit.
  const granted = new WeakSet<object>()
  const stored = new WeakSet<object>()
  const overLimit = new WeakSet<object>()
  // Subscriptions that came in a SUBSCRIBE packet; the others Aedes restores from a persistent session.
  const fromPacket = new WeakSet<object>()

  /**
   * Sees each SUBSCRIBE and UNSUBSCRIBE before Aedes handles it (listeners on the client's packet parser run in
   * order, ours first): filters past mqtt.maxFiltersPerSubscribe are marked for 0x80, unsubscribed filters leave the
   * per-client count. Aedes has no hook that sees the whole packet.
   */
  function watchPackets (client: Client): void {
    type Parser = { prependListener?: (e: string, fn: (p: any) => void) => void }
    const parser = (client as unknown as { _parser?: Parser })._parser
    type Packet = { cmd: string, subscriptions?: object[], unsubscriptions?: string[] }
    parser?.prependListener?.('packet', (packet: Packet) => {
      if (packet.cmd === 'subscribe' && packet.subscriptions !== undefined) {
        for (const sub of packet.subscriptions) fromPacket.add(sub)
        for (let i = limits.maxFiltersPerSubscribe; i < packet.subscriptions.length; i++) {
          overLimit.add(packet.subscriptions[i])
        }
      } else if (packet.cmd === 'unsubscribe' && packet.unsubscriptions !== undefined) {
        const { filters } = parts.stateOf(client)
        for (const topic of packet.unsubscriptions) filters.delete(topic)
      }
    })
  }

  function refusal (client: Client, sub: Subscription, principal: Principal | undefined):
  { reason?: string, limit?: LimitName } {
    const state = parts.stateOf(client)
    if (principal === undefined) return { reason: 'no principal' }
    if (overLimit.has(sub)) {
      const reason = `more than ${limits.maxFiltersPerSubscribe} filters in one SUBSCRIBE`
      return { reason, limit: 'filters_per_subscribe' }
    }
    if (!state.filters.has(sub.topic) && state.filters.size >= limits.maxSubscriptionsPerClient) {
      const reason = `more than ${limits.maxSubscriptionsPerClient} subscriptions`
      return { reason, limit: 'subscriptions_per_client' }
    }
    const decision = authorize(principal, 'subscribe', sub.topic, false, aclRules)
    return decision.allow ? {} : { reason: decision.reason }
  }

  const authorizeSubscribe: NonNullable<AedesOptions['authorizeSubscribe']> = (client, sub, done) => {
    const principal = parts.principalOf(client)
    const { reason, limit } = refusal(client, sub, principal)
    if (reason === undefined) {
      parts.stateOf(client).filters.add(sub.topic)
      granted.add(sub)
      return done(null, sub)
    }
    if (limit !== undefined) refusals[limit]++
    denied(client, principal, 'subscribe', sub.topic, reason)
    // A filter of a persistent session its identity may no longer hold (another role, other acl.rules): Aedes
    // skips it on restore but keeps it stored, queueing for it; it goes.
    const store = parts.store()
    if (!fromPacket.has(sub) && !client.clean && store !== undefined) {
      Promise.resolve(store.removeSubscriptions({ id: client.id }, [sub.topic]))
        .catch((err: Error) => log.error({ err, clientId: client.id }, 'refused subscription not removed'))
    }
    // [MQTT-3.9.3-2] a null subscription is answered with SUBACK return code 0x80.
    done(null, null as unknown as Subscription)
  }

  return {
    authorizeSubscribe,
    watchPackets,
    storable: subs => subs.filter(sub => {
      if (!granted.has(sub) || stored.has(sub)) return false
      stored.add(sub)
      return true
    })
  }
}

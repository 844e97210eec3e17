import type { Client, PublishPacket } from 'aedes'
import { authorizePublish as aclPublishDecision } from '../auth/acl.js'
import type { Principal } from '../auth/principal.js'
import { parseTopic, type TopicFamily } from '../protocol/index.js'
import type { Denied, HookDeps, LimitName } from './hook-types.js'
import { DROPPED_TOPIC, finish, runSteps, type Inbound, type InboundPublish, type Step } from './pipeline.js'

type Done = (err?: Error | null) => void
const NONE: readonly Step[] = []
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * The publish side of the hooks: the access decision, then the inbound steps (gateway/inbound.ts) for every client
 * publish and will; remembers what it let through so the handlers after delivery get the same message.
 */
export function createPublishPath (deps: HookDeps, refusals: Record<LimitName, number>, denied: Denied): {
  publishAs: (principal: Principal, client: Client, packet: PublishPacket, done: Done) => void
  publishWill: (owner: Principal, packet: PublishPacket & { clientId?: string }, done: Done) => void
  willRefusal: (principal: Principal, will: PublishPacket) => string | undefined
  useInbound: (inbound: Inbound) => void
  deliveredPublish: (packet: PublishPacket) => InboundPublish | undefined
} {
  const { log, aclRules } = deps
  let inbound: Inbound = { stepsOf: () => NONE, handled: () => false }
  // Keyed by the packet object Aedes hands on to broker.publish and to its 'publish' event (lib/handlers/publish.js);
  // only messages of a handled family, so the hot path (telemetry) touches no WeakMap.
  const delivered = new WeakMap<PublishPacket, InboundPublish>()
  const remember = (msg: InboundPublish): void => { delivered.set(msg.packet, msg) }

  /** The whole publish path (ACL, then the steps) for a publish by `principal`. */
  function publishAs (principal: Principal, client: Client, packet: PublishPacket, done: Done): void {
    // The one parse of this publish's topic: the ACL, every step and the handler read it from here.
    const parsed = parseTopic(packet.topic)
    const msg: InboundPublish = {
      principal,
      client,
      packet,
      family: parsed?.family,
      params: parsed?.params ?? NO_PARAMS,
      body: undefined
    }
    const decision = aclPublishDecision(principal, packet.topic, packet.retain, aclRules, parsed)
    if (!decision.allow) {
      denied(client, principal, 'publish', packet.topic, decision.reason)
      finish(packet, { deny: decision.reason }, done)
      return
    }
    const family = msg.family as TopicFamily | undefined
    const handled = family !== undefined && inbound.handled(family)
    runSteps(inbound.stepsOf(family), 0, msg, log, handled ? remember : undefined, done)
  }

  /**
   * A will carrying its owner (set at CONNECT): Aedes publishes it when the connection drops, or, after an unclean
   * restart, from the store with client null (aedes.js _clearWills). Either way it is its owner's publish, through
   * the same ACL and steps. A refusal drops it (routed nowhere, retained nowhere): an error here would leave
   * the will stored and re-published every heartbeat, and surface as an 'error' on the broker.
   */
  function publishWill (owner: Principal, packet: PublishPacket & { clientId?: string }, done: Done): void {
    const client = { id: packet.clientId ?? owner.clientId } as unknown as Client
    const drop = (reason: string): void => {
      refusals.will++
      log.warn({ clientId: client.id, topic: packet.topic, reason }, 'will refused')
      packet.topic = DROPPED_TOPIC
      packet.retain = false
      done(null)
    }
    const go = (valid: boolean): void => {
      if (!valid) return drop('its owner is no longer allowed')
      publishAs(owner, client, packet, err => err === undefined || err === null ? done(null) : drop(err.message))
    }
    let valid: boolean | Promise<boolean>
    try {
      valid = deps.willOwnerValid(owner)
    } catch (err) {
      valid = Promise.reject(err)
    }
    if (!(valid instanceof Promise)) return go(valid)
    valid.then(go, (err: Error) => {
      log.error({ err, clientId: client.id }, 'will owner lookup failed')
      drop('owner lookup failed')
    }).catch((err: Error) => log.error({ err, clientId: client.id }, 'will publish failed'))
  }

  /** Why this identity may not set this will (a publish it could not make), or undefined. */
  function willRefusal (principal: Principal, will: PublishPacket): string | undefined {
    const parsed = parseTopic(will.topic)
    const decision = aclPublishDecision(principal, will.topic, will.retain, aclRules, parsed)
    if (!decision.allow) return decision.reason
    return deps.checkWillPayload(parsed, will.payload as Buffer)
  }

  return {
    publishAs,
    publishWill,
    willRefusal,
    useInbound: next => { inbound = next },
    deliveredPublish: packet => delivered.get(packet)
  }
}

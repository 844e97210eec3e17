import type { AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes'
import type { AuthOutcome, Credentials } from '../auth/authenticate.js'
import { authorize, authorizePublish as aclPublishDecision, mayRead, type AclRule } from '../auth/acl.js'
import { usernameOf, type Principal } from '../auth/principal.js'
import { parseTopic, type ParsedTopic } from '../gateway/topics.js'
import type { EventBus } from '../events.js'
import type { Logger } from '../log.js'
import { certificateOf } from './client-certificate.js'

/**
 * What a publish interceptor decides about an allowed client publish, before Aedes acknowledges it:
 * - 'deliver': go on (the next interceptor, then PUBACK and delivery);
 * - { drop }: acknowledge per QoS but deliver to nobody and retain nothing (SPEC §3, invalid payloads);
 * - { deny }: close the connection (SPEC §3, a topic the client may not use).
 * An interceptor may return a promise: the PUBACK waits for it (telemetry's durable acknowledgement).
 */
export type PublishVerdict = 'deliver' | { drop: string } | { deny: string }
export type PublishInterceptor = (
  principal: Principal,
  packet: PublishPacket,
  client: Client,
  info: PublishInfo
) => PublishVerdict | Promise<PublishVerdict>

/**
 * What the pipeline has learnt about one client publish, handed to every step so that each thing is worked out
 * once per publish: the topic is parsed once (for the ACL and every step), the payload's JSON once (by the guard).
 */
export interface PublishInfo {
  /** The topic's SPEC §3 family and parameters (parseTopic); undefined for a topic outside them. */
  readonly topic: ParsedTopic | undefined
  /**
   * The payload's JSON value, set by the payload guard once it has validated it against its family's schema;
   * undefined before that step or for a family without a schema.
   */
  body: unknown
}

/**
 * Where dropped packets go: Aedes has no "ack but do not route", so the packet is rewritten to this topic.
 * Wildcard filters never match a topic that starts with '$' [MQTT-4.7.2-1], and nobody may subscribe to it.
 */
export const DROPPED_TOPIC = '$autocore/dropped'

export interface BrokerHooks {
  hooks: Pick<
    AedesOptions,
    'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
  >
  principalOf: (client: Client) => Principal | undefined
  /** Adds a step to every client publish, after the access decision; steps run in the order added. */
  intercept: (interceptor: PublishInterceptor) => void
  /**
   * The subscriptions of a SUBSCRIBE that may be stored in a persistent session: those granted and not stored yet.
   * Aedes stores the whole packet's list once per granted filter (lib/handlers/subscribe.js storeSubscriptions):
   * refused filters too, and N² writes for N filters. broker.ts routes the store's addSubscriptions through this.
   */
  storable: <S extends object>(subs: readonly S[]) => S[]
  /**
   * May a message on `topic` be queued for the offline persistent session `clientId`? Decided with the identity that
   * last held the session (its delivery is authorized again when it comes back); true for a session this process
   * has not seen (from before a restart).
   */
  queueable: (clientId: string, topic: string) => boolean
  /** Forgets a deleted session's identity. */
  forgetSession: (clientId: string) => void
  /** The store restored subscriptions are removed from when they are refused (broker.ts sets it). */
  useStore: (store: {
    removeSubscriptions: (client: Pick<Client, 'id'>, topics: string[]) => Promise<unknown> | unknown
  }) => void
  /** How often each session limit refused something, for /metrics (autocore_mqtt_limit_refusals_total). */
  readonly refusals: Record<LimitName, number>
}

/** The session-layer limits (config mqtt.*), each counted in refusals when it refuses. */
export type LimitName =
  | 'filters_per_subscribe'
  | 'subscriptions_per_client'
  | 'client_id_length'
  | 'client_id_owner'
  | 'will'
  | 'queued_messages'
  | 'session_expired'

export interface HookLimits {
  readonly maxClientIdLength: number
  readonly maxFiltersPerSubscribe: number
  readonly maxSubscriptionsPerClient: number
}

/** Marks a will with the identity that set it, so a will published after an unclean restart is its owner's publish. */
export const WILL_OWNER = 'autocoreOwner'

export interface HookDeps {
  /** The CONNECT decision (auth/authenticate.ts); may be async, must not throw (a throw refuses with 5). */
  authenticate: (creds: Credentials) => AuthOutcome | Promise<AuthOutcome>
  /** config acl.rules, for topics outside autocore/. */
  aclRules: readonly AclRule[]
  /** Refusals are reported as bus events (mqtt.auth_failed, mqtt.acl_denied); services log and record them. */
  bus: EventBus
  log: Logger
  limits: HookLimits
  /** Is this client id a provisioned device's UUID? (Only that device may use it.) */
  isDeviceId: (clientId: string) => boolean | Promise<boolean>
  /** The payload checks of a publish (SPEC §3: size, JSON, schema), applied to a will at CONNECT; a reason refuses. */
  checkWillPayload: (topic: ParsedTopic | undefined, payload: Buffer) => string | undefined
  /**
   * Does the identity a will was stored with still hold (device or user not deleted, disabled, re-roled)? Asked when
   * the will is published, which may be long after the CONNECT (an unclean restart).
   */
  willOwnerValid: (owner: Principal) => boolean | Promise<boolean>
}

/** Per connection: what it subscribed to (for the per-client limit) and what it may read (cached per topic). */
interface ClientState {
  readonly filters: Set<string>
  readonly reads: Map<string, boolean>
  /** Set once authenticated. */
  principal?: Principal
}

/** Topics whose read decision one connection remembers; past this the cache starts afresh. */
const MAX_CACHED_READS = 1024

/** The peer address of a TCP client, or of the HTTP request a WebSocket client came in on. */
export function remoteAddressOf (client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string }).remoteAddress ?? client.req?.socket?.remoteAddress
}

/**
 * The thin adapter from Aedes' callback hooks to the decisions in auth/. Aedes hooks must call their
 * callback exactly once (an async hook that returns without calling it leaves the client in CONNACK timeout).
 */
export function createHooks (deps: HookDeps): BrokerHooks {
  const { bus, log, aclRules, limits } = deps
  const principals = new WeakMap<Client, Principal>()
  const states = new WeakMap<Client, ClientState>()
  const interceptors: PublishInterceptor[] = []
  // Clients refused in authenticate for what preConnect saw in their CONNECT, with the CONNACK code and reason.
  const refusedIds = new WeakMap<Client, string>()
  // Subscriptions (objects of a SUBSCRIBE packet) granted, stored, and refused for a limit.
  const granted = new WeakSet<object>()
  const stored = new WeakSet<object>()
  const overLimit = new WeakSet<object>()
  // Subscriptions that came in a SUBSCRIBE packet; the others Aedes restores from a persistent session.
  const fromPacket = new WeakSet<object>()
  let store: Parameters<BrokerHooks['useStore']>[0] | undefined
  // The identity and read cache of each persistent session (clean session 0) by client id; bounded by the sessions
  // themselves (mqtt.sessionExpiryMs).
  const sessions = new Map<string, ClientState>()
  const refusals: Record<LimitName, number> = {
    filters_per_subscribe: 0,
    subscriptions_per_client: 0,
    client_id_length: 0,
    client_id_owner: 0,
    will: 0,
    queued_messages: 0,
    session_expired: 0
  }

  function refuse (
    client: Client,
    username: string | undefined,
    outcome: AuthOutcome & { ok: false },
    done: (err: AuthenticateError, ok: null) => void
  ): void {
    bus.emit('mqtt.auth_failed', {
      clientId: client.id,
      username,
      remoteAddress: remoteAddressOf(client),
      returnCode: outcome.returnCode,
      reason: outcome.reason,
      throttled: outcome.throttled === true,
      penaltyStarted: outcome.penaltyStarted === true
    })
    // The refused connection never had a session: Aedes 1.2 would still wipe the QoS 2 dedup store of its client id
    // (cleanIncoming) when it closes, which is the store of whoever legitimately holds that id, and costs a LevelDB
    // iterator per refusal (most of a failed-login burst's CPU).
    client.clean = false
    // Nor a will: it must not be published when the refused connection closes.
    ;(client as unknown as { _will: unknown })._will = null
    const err = new Error(outcome.reason) as AuthenticateError
    // AuthErrorCode is a const enum that does not exist at run time; the numbers are CONNACK return codes.
    err.returnCode = outcome.returnCode as AuthenticateError['returnCode']
    done(err, null)
  }

  function denied (
    client: Pick<Client, 'id'>,
    principal: Principal | undefined,
    action: 'publish' | 'subscribe',
    topic: string,
    reason: string
  ): void {
    bus.emit('mqtt.acl_denied', {
      clientId: client.id,
      username: principal === undefined ? undefined : usernameOf(principal),
      action,
      topic,
      reason
    })
  }

  function finish (
    client: Client,
    packet: PublishPacket,
    verdict: PublishVerdict,
    done: (err?: Error | null) => void
  ): boolean {
    if (verdict === 'deliver') return false
    if ('deny' in verdict) {
      // [MQTT-3.3.5-2] MQTT 3.1.1 has no negative PUBACK: Aedes closes the connection on this error.
      done(new Error(verdict.deny))
      return true
    }
    packet.topic = DROPPED_TOPIC
    packet.retain = false
    done(null)
    return true
  }

  // Runs the interceptors synchronously while they answer synchronously, so the common path allocates no promise.
  function runFrom (
    i: number,
    principal: Principal,
    packet: PublishPacket,
    client: Client,
    info: PublishInfo,
    done: (err?: Error | null) => void
  ): void {
    for (; i < interceptors.length; i++) {
      let verdict: PublishVerdict | Promise<PublishVerdict>
      try {
        verdict = interceptors[i](principal, packet, client, info)
      } catch (err) {
        log.error({ err, clientId: client.id, topic: packet.topic }, 'publish interceptor failed')
        return done(err as Error)
      }
      if (verdict instanceof Promise) {
        const next = i + 1
        verdict.then(v => {
          if (!finish(client, packet, v, done)) runFrom(next, principal, packet, client, info, done)
        }, (err: Error) => {
          log.error({ err, clientId: client.id, topic: packet.topic }, 'publish interceptor failed')
          done(err)
        })
        return
      }
      if (finish(client, packet, verdict, done)) return
    }
    done(null)
  }

  /** The whole publish path (ACL, then the interceptors) for a publish by `principal`. */
  function publishAs (
    principal: Principal,
    client: Client,
    packet: PublishPacket,
    done: (err?: Error | null) => void
  ): void {
    // The one parse of this publish's topic: the ACL and every pipeline step read it from here.
    const info: PublishInfo = { topic: parseTopic(packet.topic), body: undefined }
    const decision = aclPublishDecision(principal, packet.topic, packet.retain, aclRules, info.topic)
    if (!decision.allow) {
      denied(client, principal, 'publish', packet.topic, decision.reason)
      finish(client, packet, { deny: decision.reason }, done)
      return
    }
    runFrom(0, principal, packet, client, info, done)
  }

  /**
   * A will carrying its owner (set at CONNECT): Aedes publishes it when the connection drops, or, after an unclean
   * restart, from the store with client null (aedes.js _clearWills). Either way it is its owner's publish, through
   * the same ACL and interceptors. A refusal drops it (routed nowhere, retained nowhere): an error here would leave
   * the will stored and re-published every heartbeat, and surface as an 'error' on the broker.
   */
  function publishWill (
    owner: Principal,
    packet: PublishPacket & { clientId?: string },
    done: (err?: Error | null) => void
  ): void {
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

  function stateOf (client: Client): ClientState {
    let state = states.get(client)
    if (state === undefined) {
      state = { filters: new Set(), reads: new Map() }
      states.set(client, state)
    }
    return state
  }

  /**
   * Sees each SUBSCRIBE and UNSUBSCRIBE before Aedes handles it (listeners on the client's packet parser run in
   * order, ours first): filters past mqtt.maxFiltersPerSubscribe are marked for 0x80, unsubscribed filters leave the
   * per-client count. Aedes has no hook that sees the whole packet.
   */
  function watchPackets (client: Client): void {
    const parser = (client as unknown as { _parser?: { prependListener?: (e: string, fn: (p: any) => void) => void } })
      ._parser
    parser?.prependListener?.('packet', (packet: { cmd: string, subscriptions?: object[], unsubscriptions?: string[] }) => {
      if (packet.cmd === 'subscribe' && packet.subscriptions !== undefined) {
        for (const sub of packet.subscriptions) fromPacket.add(sub)
        for (let i = limits.maxFiltersPerSubscribe; i < packet.subscriptions.length; i++) { overLimit.add(packet.subscriptions[i]) }
      } else if (packet.cmd === 'unsubscribe' && packet.unsubscriptions !== undefined) {
        const { filters } = stateOf(client)
        for (const topic of packet.unsubscriptions) filters.delete(topic)
      }
    })
  }

  function authenticated (
    client: Client,
    principal: Principal,
    name: string | undefined,
    done: (err: AuthenticateError | null, ok: boolean | null) => void
  ): void {
    const will = (client as unknown as { _will: (PublishPacket & { [WILL_OWNER]?: Principal }) | null | undefined })
      ._will
    if (will !== null && will !== undefined) {
      const reason = willRefusal(principal, will)
      if (reason !== undefined) {
        refusals.will++
        denied(client, principal, 'publish', will.topic, `will: ${reason}`)
        return refuse(client, name, { ok: false, returnCode: 5, reason: `will refused: ${reason}` }, done)
      }
      // Stored with the will by the persistence (msgpack keeps every field), so a restart still knows its owner.
      will[WILL_OWNER] = principal
    }
    principals.set(client, principal)
    const state = stateOf(client)
    state.principal = principal
    if (client.clean) sessions.delete(client.id)
    else sessions.set(client.id, state)
    watchPackets(client)
    done(null, true)
  }

  function ownerOfId (
    client: Client,
    principal: Principal,
    name: string | undefined,
    done: (err: AuthenticateError | null, ok: boolean | null) => void
  ): void {
    // A device's UUID is its own client id: whoever else takes it would disconnect the device and, with clean
    // session 0, receive its queued commands.
    if (principal.kind === 'device' && principal.uuid === client.id) return authenticated(client, principal, name, done)
    const taken = (isDevice: boolean): void => {
      if (!isDevice) return authenticated(client, principal, name, done)
      refusals.client_id_owner++
      refuse(client, name, { ok: false, returnCode: 2, reason: 'client id belongs to a device' }, done)
    }
    let result: boolean | Promise<boolean>
    try {
      result = deps.isDeviceId(client.id)
    } catch (err) {
      result = Promise.reject(err)
    }
    if (!(result instanceof Promise)) return taken(result)
    result.then(taken, (err: Error) => {
      log.error({ err, clientId: client.id }, 'client id lookup failed')
      refuse(
        client,
        name,
        { ok: false, returnCode: 3, reason: 'client id lookup failed' } as unknown as AuthOutcome & { ok: false },
        done
      )
    }).catch((err: Error) => log.error({ err, clientId: client.id }, 'authenticate callback failed'))
  }

  // The per-delivery decision: one WeakMap and one Map lookup once a topic has been seen on this connection.
  function mayReadCached (client: Client, topic: string): boolean {
    return readsOf(states.get(client), topic)
  }

  function readsOf (state: ClientState | undefined, topic: string): boolean {
    const principal = state?.principal
    if (state === undefined || principal === undefined) return false
    let ok = state.reads.get(topic)
    if (ok === undefined) {
      ok = mayRead(principal, topic, aclRules)
      if (state.reads.size >= MAX_CACHED_READS) state.reads.clear()
      state.reads.set(topic, ok)
    }
    return ok
  }

  return {
    principalOf: client => principals.get(client),
    intercept: interceptor => { interceptors.push(interceptor) },
    storable: subs => subs.filter(sub => {
      if (!granted.has(sub) || stored.has(sub)) return false
      stored.add(sub)
      return true
    }),
    queueable: (clientId, topic) => {
      const state = sessions.get(clientId)
      return state === undefined || readsOf(state, topic)
    },
    forgetSession: clientId => { sessions.delete(clientId) },
    useStore: s => { store = s },
    refusals,
    hooks: {
      preConnect (client, packet, done) {
        // A CONNECT of a protocol level the broker does not support carries no payload (mqtt-packet stops at the
        // level): Aedes answers it CONNACK 0x01 after this step [MQTT-3.1.2-2], so there is no client id to check.
        const clientId = packet.clientId as string | undefined
        if (clientId === undefined) return done(null, true)
        // [MQTT-3.1.3-8] an empty client id with clean session 0 gets CONNACK 2; Aedes would invent an id.
        if (clientId === '' && !packet.clean) refusedIds.set(client, 'empty client id needs clean session')
        // Aedes checks the length for MQTT 3.1 only (lib/handlers/connect.js); it holds for every level [MQTT-3.1.3-5].
        if (clientId.length > limits.maxClientIdLength) {
          refusals.client_id_length++
          refusedIds.set(client, `client id longer than ${limits.maxClientIdLength}`)
        }
        done(null, true)
      },
      authenticate (client, username, password, done) {
        const name = username ?? undefined
        const idRefusal = refusedIds.get(client)
        if (idRefusal !== undefined) {
          // The id is not kept: an event with 60,000 characters of it would be the next flood.
          client.id = client.id.slice(0, limits.maxClientIdLength)
          return refuse(client, name, { ok: false, returnCode: 2, reason: idRefusal }, done)
        }
        const settle = (outcome: AuthOutcome): void => {
          if (!outcome.ok) return refuse(client, name, outcome, done)
          ownerOfId(client, outcome.principal, name, done)
        }
        let result: AuthOutcome | Promise<AuthOutcome>
        try {
          result = deps.authenticate({
            clientId: client.id,
            username: name,
            password: password ?? undefined,
            remoteAddress: remoteAddressOf(client),
            certificate: certificateOf(client)
          })
        } catch (err) {
          result = Promise.reject(err)
        }
        if (!(result instanceof Promise)) return settle(result)
        result.then(settle, (err: Error) => {
          log.error({ err, clientId: client.id }, 'authentication failed')
          settle({ ok: false, returnCode: 5, reason: 'authentication error' })
        }).catch((err: Error) => log.error({ err, clientId: client.id }, 'authenticate callback failed'))
      },
      authorizePublish (client, packet, done) {
        // A will knows its owner (set at CONNECT); nothing else is trusted for being published without a client.
        const owner = (packet as { [WILL_OWNER]?: Principal })[WILL_OWNER]
        if (owner !== undefined) return publishWill(owner, packet, done)
        if (client === null) {
          // A will stored before this version (no owner), or anything else Aedes would publish with no client.
          refusals.will++
          log.warn({ clientId: (packet as { clientId?: string }).clientId, topic: packet.topic }, 'will refused')
          packet.topic = DROPPED_TOPIC
          packet.retain = false
          return done(null)
        }
        const principal = principals.get(client)
        if (principal === undefined) {
          denied(client, principal, 'publish', packet.topic, 'no principal')
          finish(client, packet, { deny: 'no principal' }, done)
          return
        }
        publishAs(principal, client, packet, done)
      },
      authorizeSubscribe (client, sub, done) {
        const principal = principals.get(client)
        const state = stateOf(client)
        let reason: string | undefined
        let limit: LimitName | undefined
        if (principal === undefined) {
          reason = 'no principal'
        } else if (overLimit.has(sub)) {
          reason = `more than ${limits.maxFiltersPerSubscribe} filters in one SUBSCRIBE`
          limit = 'filters_per_subscribe'
        } else if (!state.filters.has(sub.topic) && state.filters.size >= limits.maxSubscriptionsPerClient) {
          reason = `more than ${limits.maxSubscriptionsPerClient} subscriptions`
          limit = 'subscriptions_per_client'
        } else {
          const decision = authorize(principal, 'subscribe', sub.topic, false, aclRules)
          if (!decision.allow) reason = decision.reason
        }
        if (reason === undefined) {
          state.filters.add(sub.topic)
          granted.add(sub)
          return done(null, sub)
        }
        if (limit !== undefined) refusals[limit]++
        denied(client, principal, 'subscribe', sub.topic, reason)
        // A filter of a persistent session its identity may no longer hold (another role, other acl.rules): Aedes
        // skips it on restore but keeps it stored, queueing for it; it goes.
        if (!fromPacket.has(sub) && !client.clean && store !== undefined) {
          Promise.resolve(store.removeSubscriptions({ id: client.id }, [sub.topic]))
            .catch((err: Error) => log.error({ err, clientId: client.id }, 'refused subscription not removed'))
        }
        // [MQTT-3.9.3-2] a null subscription is answered with SUBACK return code 0x80.
        done(null, null as unknown as Subscription)
      },
      authorizeForward (client, packet) {
        return mayReadCached(client, packet.topic) ? packet : null
      }
    }
  }
}

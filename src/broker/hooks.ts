import type { AuthenticateError, Client, PublishPacket } from 'aedes'
import type { AuthOutcome } from '../auth/authenticate.js'
import { mayRead } from '../auth/acl.js'
import { usernameOf, type Principal } from '../auth/principal.js'
import { certificateOf } from './client-certificate.js'
import {
  remoteAddressOf, WILL_OWNER, type BrokerHooks, type ClientState, type Denied, type HookDeps, type LimitName,
  type SubscriptionStore
} from './hook-types.js'
import { DROPPED_TOPIC, finish } from './pipeline.js'
import { createPublishPath } from './publish-path.js'
import { createSubscribePath } from './subscribe-path.js'

export { remoteAddressOf, WILL_OWNER, type BrokerHooks, type HookDeps, type LimitName } from './hook-types.js'
export { DROPPED_TOPIC } from './pipeline.js'

/** Topics whose read decision one connection remembers; past this the cache starts afresh. */
const MAX_CACHED_READS = 1024

type ConnectDone = (err: AuthenticateError | null, ok: boolean | null) => void

/**
 * The thin adapter from Aedes' callback hooks to the decisions in auth/ (publish-path.ts, subscribe-path.ts) and the
 * inbound steps of gateway/inbound.ts. Aedes hooks must call their callback exactly once (an async hook that returns
 * without calling it leaves the client in CONNACK timeout).
 */
export function createHooks (deps: HookDeps): BrokerHooks {
  const { bus, log, aclRules, limits } = deps
  const principals = new WeakMap<Client, Principal>()
  const states = new WeakMap<Client, ClientState>()
  // Clients refused in authenticate for what preConnect saw in their CONNECT, with the CONNACK code and reason.
  const refusedIds = new WeakMap<Client, string>()
  let store: SubscriptionStore | undefined
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

  type Refusal = AuthOutcome & { ok: false }
  function refuse (client: Client, username: string | undefined, outcome: Refusal, done: ConnectDone): void {
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

  const denied: Denied = (client, principal, action, topic, reason) => {
    const username = principal === undefined ? undefined : usernameOf(principal)
    bus.emit('mqtt.acl_denied', { clientId: client.id, username, action, topic, reason })
  }

  function stateOf (client: Client): ClientState {
    let state = states.get(client)
    if (state === undefined) {
      state = { filters: new Set(), reads: new Map() }
      states.set(client, state)
    }
    return state
  }

  const publishing = createPublishPath(deps, refusals, denied)
  const subscribing = createSubscribePath(deps, refusals, denied, {
    principalOf: client => principals.get(client),
    stateOf,
    store: () => store
  })

  function authenticated (client: Client, principal: Principal, name: string | undefined, done: ConnectDone): void {
    type OwnedWill = PublishPacket & { [WILL_OWNER]?: Principal }
    const will = (client as unknown as { _will: OwnedWill | null | undefined })._will
    if (will !== null && will !== undefined) {
      const reason = publishing.willRefusal(principal, will)
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
    subscribing.watchPackets(client)
    done(null, true)
  }

  function ownerOfId (client: Client, principal: Principal, name: string | undefined, done: ConnectDone): void {
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
      const outcome = { ok: false, returnCode: 3, reason: 'client id lookup failed' } as unknown as Refusal
      refuse(client, name, outcome, done)
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
    useInbound: publishing.useInbound,
    deliveredPublish: publishing.deliveredPublish,
    storable: subscribing.storable,
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
        if (owner !== undefined) return publishing.publishWill(owner, packet, done)
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
          finish(packet, { deny: 'no principal' }, done)
          return
        }
        publishing.publishAs(principal, client, packet, done)
      },
      authorizeSubscribe: subscribing.authorizeSubscribe,
      authorizeForward (client, packet) {
        return mayReadCached(client, packet.topic) ? packet : null
      }
    }
  }
}

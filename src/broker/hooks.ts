import type { AedesOptions, AuthenticateError, Client, PublishPacket } from 'aedes'
import type { AuthOutcome, Credentials } from '../auth/authenticate.js'
import { authorize, authorizePublish as aclPublishDecision, type AclRule } from '../auth/acl.js'
import { usernameOf, type Principal } from '../auth/principal.js'
import { parseTopic, type ParsedTopic } from '../gateway/topics.js'
import type { EventBus } from '../events.js'
import type { Logger } from '../log.js'
import { certificateUuidOf } from './client-certificate.js'

/**
 * What a publish interceptor decides about an allowed client publish, before Aedes acknowledges it:
 * - 'deliver': go on (the next interceptor, then PUBACK and delivery);
 * - { drop }: acknowledge per QoS but deliver to nobody and retain nothing (SPEC §3, invalid payloads);
 * - { deny }: close the connection (SPEC §3, a topic the client may not use).
 * An interceptor may return a promise: the PUBACK waits for it (telemetry's durable acknowledgement).
 */
export type PublishVerdict = 'deliver' | { drop: string } | { deny: string }
export type PublishInterceptor = (principal: Principal, packet: PublishPacket, client: Client, info: PublishInfo) => PublishVerdict | Promise<PublishVerdict>

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
  hooks: Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>
  principalOf: (client: Client) => Principal | undefined
  /** Adds a step to every client publish, after the access decision; steps run in the order added. */
  intercept: (interceptor: PublishInterceptor) => void
}

export interface HookDeps {
  /** The CONNECT decision (auth/authenticate.ts); may be async, must not throw (a throw refuses with 5). */
  authenticate: (creds: Credentials) => AuthOutcome | Promise<AuthOutcome>
  /** config acl.rules, for topics outside autocore/. */
  aclRules: readonly AclRule[]
  /** Refusals are reported as bus events (mqtt.auth_failed, mqtt.acl_denied); services log and record them. */
  bus: EventBus
  log: Logger
}

/** The peer address of a TCP client, or of the HTTP request a WebSocket client came in on. */
export function remoteAddressOf (client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string }).remoteAddress ?? client.req?.socket?.remoteAddress
}

/**
 * The thin adapter from Aedes' callback hooks to the decisions in auth/. Aedes hooks must call their
 * callback exactly once (an async hook that returns without calling it leaves the client in CONNACK timeout).
 */
export function createHooks (deps: HookDeps): BrokerHooks {
  const { bus, log, aclRules } = deps
  const principals = new WeakMap<Client, Principal>()
  const interceptors: PublishInterceptor[] = []
  // Clients whose CONNECT had an empty client id with clean session 0, refused in authenticate.
  const emptyIdPersistent = new WeakSet<Client>()

  function refuse (client: Client, username: string | undefined, outcome: AuthOutcome & { ok: false }, done: (err: AuthenticateError, ok: null) => void): void {
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
    const err = new Error(outcome.reason) as AuthenticateError
    // AuthErrorCode is a const enum that does not exist at run time; the numbers are CONNACK return codes.
    err.returnCode = outcome.returnCode as AuthenticateError['returnCode']
    done(err, null)
  }

  function denied (client: Client, principal: Principal | undefined, action: 'publish' | 'subscribe', topic: string, reason: string): void {
    bus.emit('mqtt.acl_denied', { clientId: client.id, username: principal === undefined ? undefined : usernameOf(principal), action, topic, reason })
  }

  function finish (client: Client, packet: PublishPacket, verdict: PublishVerdict, done: (err?: Error | null) => void): boolean {
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
  function runFrom (i: number, principal: Principal, packet: PublishPacket, client: Client, info: PublishInfo, done: (err?: Error | null) => void): void {
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

  return {
    principalOf: client => principals.get(client),
    intercept: interceptor => { interceptors.push(interceptor) },
    hooks: {
      preConnect (client, packet, done) {
        // [MQTT-3.1.3-8] an empty client id with clean session 0 gets CONNACK 2; Aedes would invent an id.
        if (packet.clientId === '' && !packet.clean) emptyIdPersistent.add(client)
        done(null, true)
      },
      authenticate (client, username, password, done) {
        const name = username ?? undefined
        if (emptyIdPersistent.has(client)) {
          return refuse(client, name, { ok: false, returnCode: 2, reason: 'empty client id needs clean session' }, done)
        }
        const settle = (outcome: AuthOutcome): void => {
          if (!outcome.ok) return refuse(client, name, outcome, done)
          principals.set(client, outcome.principal)
          done(null, true)
        }
        let result: AuthOutcome | Promise<AuthOutcome>
        try {
          result = deps.authenticate({ clientId: client.id, username: name, password: password ?? undefined, remoteAddress: remoteAddressOf(client), certificateUuid: certificateUuidOf(client) })
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
        // client is null for the gateway's own in-process publishes and for wills of long-gone clients: trusted.
        if (client === null) return done(null)
        const principal = principals.get(client)
        if (principal === undefined) {
          denied(client, principal, 'publish', packet.topic, 'no principal')
          return finish(client, packet, { deny: 'no principal' }, done)
        }
        // The one parse of this publish's topic: the ACL and every pipeline step read it from here.
        const info: PublishInfo = { topic: parseTopic(packet.topic), body: undefined }
        const decision = aclPublishDecision(principal, packet.topic, packet.retain, aclRules, info.topic)
        if (!decision.allow) {
          denied(client, principal, 'publish', packet.topic, decision.reason)
          return finish(client, packet, { deny: decision.reason }, done)
        }
        runFrom(0, principal, packet, client, info, done)
      },
      authorizeSubscribe (client, sub, done) {
        const principal = principals.get(client)
        const decision = principal === undefined
          ? { allow: false as const, reason: 'no principal' }
          : authorize(principal, 'subscribe', sub.topic, false, aclRules)
        if (decision.allow) return done(null, sub)
        denied(client, principal, 'subscribe', sub.topic, decision.reason)
        // [MQTT-3.9.3-2] a null subscription is answered with SUBACK return code 0x80.
        done(null, null)
      }
    }
  }
}

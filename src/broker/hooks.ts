import type { AedesOptions, AuthenticateError, Client, PublishPacket } from 'aedes'
import { authenticate, type AuthenticatePolicy } from '../auth/authenticate.js'
import { authorize } from '../auth/acl.js'
import type { Principal } from '../auth/principal.js'
import type { Logger } from '../log.js'

/**
 * What a publish interceptor decides about an allowed client publish, before Aedes acknowledges it:
 * - 'deliver': go on (the next interceptor, then PUBACK and delivery);
 * - { drop }: acknowledge per QoS but deliver to nobody and retain nothing (SPEC §3, invalid payloads);
 * - { deny }: close the connection (SPEC §3, a topic the client may not use).
 * An interceptor may return a promise: the PUBACK waits for it (telemetry's durable acknowledgement).
 */
export type PublishVerdict = 'deliver' | { drop: string } | { deny: string }
export type PublishInterceptor = (principal: Principal, packet: PublishPacket, client: Client) => PublishVerdict | Promise<PublishVerdict>

/**
 * Where dropped packets go: Aedes has no "ack but do not route", so the packet is rewritten to this topic.
 * Wildcard filters never match a topic that starts with '$' [MQTT-4.7.2-1], and nobody may subscribe to it.
 */
export const DROPPED_TOPIC = '$autocore/dropped'

export interface BrokerHooks {
  hooks: Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>
  principalOf: (client: Client) => Principal | undefined
  /** Adds a step to every client publish, after the access decision; steps run in the order added. */
  intercept: (interceptor: PublishInterceptor) => void
}

/**
 * The thin adapter from Aedes' callback hooks to the pure decisions in auth/. Aedes hooks must call their
 * callback exactly once (an async hook that returns without calling it leaves the client in CONNACK timeout).
 */
export function createHooks (policy: AuthenticatePolicy, log: Logger): BrokerHooks {
  const principals = new WeakMap<Client, Principal>()
  const interceptors: PublishInterceptor[] = []

  function finish (client: Client, packet: PublishPacket, verdict: PublishVerdict, done: (err?: Error | null) => void): boolean {
    if (verdict === 'deliver') return false
    if ('deny' in verdict) {
      log.warn({ clientId: client.id, topic: packet.topic, reason: verdict.deny }, 'mqtt publish denied')
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
  function runFrom (i: number, principal: Principal, packet: PublishPacket, client: Client, done: (err?: Error | null) => void): void {
    for (; i < interceptors.length; i++) {
      let verdict: PublishVerdict | Promise<PublishVerdict>
      try {
        verdict = interceptors[i](principal, packet, client)
      } catch (err) {
        log.error({ err, clientId: client.id, topic: packet.topic }, 'publish interceptor failed')
        return done(err as Error)
      }
      if (verdict instanceof Promise) {
        const next = i + 1
        verdict.then(v => {
          if (!finish(client, packet, v, done)) runFrom(next, principal, packet, client, done)
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
      authenticate (client, username, password, done) {
        const decision = authenticate({ clientId: client.id, username: username ?? undefined, password: password ?? undefined }, policy)
        if (decision.ok) {
          principals.set(client, decision.principal)
          done(null, true)
          return
        }
        log.warn({ clientId: client.id, username, returnCode: decision.returnCode, reason: decision.reason }, 'mqtt connection refused')
        const err = new Error(decision.reason) as AuthenticateError
        // AuthErrorCode is a const enum that does not exist at run time; the numbers are CONNACK return codes.
        err.returnCode = decision.returnCode as AuthenticateError['returnCode']
        done(err, null)
      },
      authorizePublish (client, packet, done) {
        // client is null for the gateway's own in-process publishes and for wills of long-gone clients: trusted.
        if (client === null) return done(null)
        const principal = principals.get(client)
        const decision = principal === undefined
          ? { allow: false as const, reason: 'no principal' }
          : authorize(principal, 'publish', packet.topic, packet.retain)
        if (!decision.allow) return finish(client, packet, { deny: decision.reason }, done)
        runFrom(0, principal as Principal, packet, client, done)
      },
      authorizeSubscribe (client, sub, done) {
        const principal = principals.get(client)
        const decision = principal === undefined
          ? { allow: false as const, reason: 'no principal' }
          : authorize(principal, 'subscribe', sub.topic)
        if (decision.allow) return done(null, sub)
        log.warn({ clientId: client.id, topic: sub.topic, reason: decision.reason }, 'mqtt subscribe denied')
        // [MQTT-3.9.3-2] a null subscription is answered with SUBACK return code 0x80.
        done(null, null)
      }
    }
  }
}

import type { AedesOptions, AuthenticateError, Client } from 'aedes'
import { authenticate, type AuthenticatePolicy } from '../auth/authenticate.js'
import { authorize } from '../auth/acl.js'
import type { Principal } from '../auth/principal.js'
import type { Logger } from '../log.js'

export interface BrokerHooks {
  hooks: Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>
  principalOf: (client: Client) => Principal | undefined
}

/**
 * The thin adapter from Aedes' callback hooks to the pure decisions in auth/. Aedes hooks must call their
 * callback exactly once (an async hook that returns without calling it leaves the client in CONNACK timeout).
 */
export function createHooks (policy: AuthenticatePolicy, log: Logger): BrokerHooks {
  const principals = new WeakMap<Client, Principal>()

  return {
    principalOf: client => principals.get(client),
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
        // client is null for the gateway's own in-process publishes: trusted.
        if (client === null) return done(null)
        const principal = principals.get(client)
        const decision = principal === undefined
          ? { allow: false as const, reason: 'no principal' }
          : authorize(principal, 'publish', packet.topic, packet.retain)
        if (decision.allow) return done(null)
        log.warn({ clientId: client.id, topic: packet.topic, reason: decision.reason }, 'mqtt publish denied')
        // [MQTT-3.3.5-2] MQTT 3.1.1 has no negative PUBACK: Aedes closes the connection on this error.
        done(new Error(decision.reason))
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

import type { Client, PublishPacket } from 'aedes'
import type { Principal } from '../auth/principal.js'
import type { Payloads, TopicFamily, TopicParams } from '../protocol/index.js'
import type { Logger } from '../log.js'

/**
 * What a step decides about an allowed client publish, before Aedes acknowledges it:
 * - 'deliver': go on (the next step, then PUBACK and delivery);
 * - { drop }: acknowledge per QoS but deliver to nobody and retain nothing (SPEC §3, invalid payloads);
 * - { deny }: close the connection (SPEC §3, a topic the client may not use).
 * A step may return a promise: the PUBACK waits for it (telemetry's durable acknowledgement).
 */
export type PublishVerdict = 'deliver' | { drop: string } | { deny: string }

/**
 * One publish as the gateway sees it, worked out once: the sender (its authenticated principal; undefined for the
 * gateway's own publishes), the topic's SPEC §3 family and parameters (undefined family outside them) and, once the
 * payload guard has validated it against its family's schema, the payload's JSON value. The same object goes to
 * every step before the PUBACK and to the family's handler after delivery.
 */
export interface InboundPublish {
  readonly principal: Principal | undefined
  /** The publishing connection (a stand-in holding only `id` for a will published after a restart). */
  readonly client: Client | undefined
  readonly packet: PublishPacket
  readonly family: TopicFamily | undefined
  readonly params: Readonly<Record<string, string>>
  body: unknown
}

/** A publish of one family: typed parameters, and the body its family's schema has admitted. */
export interface InboundMessage<F extends TopicFamily = TopicFamily> extends InboundPublish {
  readonly family: F
  readonly params: TopicParams<F>
  body: Payloads[F]
}

/** A step run before the PUBACK (gateway/inbound.ts lists them, in order). */
export type Step<M extends InboundPublish = InboundPublish> = (msg: M) => PublishVerdict | Promise<PublishVerdict>

/** The steps a publish of this family (undefined: outside SPEC §3) goes through, in order. */
export type StepsOf = (family: TopicFamily | undefined) => readonly Step[]

/**
 * What the gateway does with client publishes: the steps of each family and whether a handler takes its messages
 * after delivery (only those are remembered for it).
 */
export interface Inbound { readonly stepsOf: StepsOf, readonly handled: (family: TopicFamily) => boolean }

/**
 * Where dropped packets go: Aedes has no "ack but do not route", so the packet is rewritten to this topic.
 * Wildcard filters never match a topic that starts with '$' [MQTT-4.7.2-1], and nobody may subscribe to it.
 */
export const DROPPED_TOPIC = '$autocore/dropped'

type Done = (err?: Error | null) => void

/** Applies a verdict other than 'deliver' and answers true; false to go on. */
export function finish (packet: PublishPacket, verdict: PublishVerdict, done: Done): boolean {
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

function failed (err: Error, msg: InboundPublish, log: Logger, done: Done): void {
  log.error({ err, clientId: msg.client?.id, topic: msg.packet.topic }, 'publish interceptor failed')
  done(err)
}

/**
 * Runs the steps from `i` synchronously while they answer synchronously, so the common path allocates neither a
 * promise nor a closure; `delivered` (if any) gets the message once every step has said 'deliver', just before the
 * PUBACK goes on.
 */
export function runSteps (
  steps: readonly Step[], i: number, msg: InboundPublish, log: Logger,
  delivered: ((msg: InboundPublish) => void) | undefined, done: Done
): void {
  for (; i < steps.length; i++) {
    let verdict: PublishVerdict | Promise<PublishVerdict>
    try {
      verdict = steps[i](msg)
    } catch (err) {
      return failed(err as Error, msg, log, done)
    }
    if (verdict instanceof Promise) {
      const next = i + 1
      verdict.then(v => {
        if (!finish(msg.packet, v, done)) runSteps(steps, next, msg, log, delivered, done)
      }, (err: Error) => failed(err, msg, log, done))
      return
    }
    if (finish(msg.packet, verdict, done)) return
  }
  if (delivered !== undefined) delivered(msg)
  done(null)
}

import type { Client } from 'aedes'

type Callback = (err: Error | null, packet?: unknown) => void
interface RetainedPacket { topic: string, qos: number, payload: Buffer }

/** Payloads above this size are always written (the cache below holds a copy of each). */
const RETAINED_CACHE_MAX_BYTES = 1024

/** The part of an Aedes persistence (aedes-persistence's callback/promise layer) these adapters wrap. */
export interface ShortcutStore {
  storeRetained: (packet: RetainedPacket, cb?: Callback) => unknown
  outgoingEnqueue: (sub: { clientId: string }, packet: unknown, cb?: Callback) => unknown
  outgoingEnqueueCombi: (
    subs: Array<{ clientId: string }> | null | undefined,
    packet: unknown,
    cb?: Callback
  ) => unknown
  outgoingUpdate: (client: Client, packet: unknown, cb?: Callback) => unknown
  outgoingClearMessageId: (client: Client, packet: { cmd?: string }, cb?: Callback) => unknown
}

/**
 * Aedes answers every PUBACK with a lookup in the store's outgoing queue (aedes lib/handlers/puback.js), also for
 * a clean-session client, whose QoS 1 deliveries are never stored there (lib/client.js deliverQoS writes them
 * straight to the socket when `clean`). With 200 relay boards acknowledging an emergency stop that is 200 level
 * reads that find nothing, on the broker's path.
 *
 * This skips the lookup for a PUBACK from a clean-session client for which this process has stored no outgoing
 * packet (enqueued or updated under its client id). Anything stored earlier — a persistent session's queue left
 * before a restart — is still cleared: a clean CONNECT streams that queue and clears each entry through the
 * store (connect.js emptyQueue: an update, then a clear of a PUBLISH, never skipped here), which also marks the id.
 */
export function skipCleanSessionAckLookups (store: ShortcutStore): void {
  const mayHaveStored = new Set<string>()
  const { outgoingEnqueue, outgoingEnqueueCombi, outgoingUpdate, outgoingClearMessageId } = store
  store.outgoingEnqueue = (sub, packet, cb) => {
    mayHaveStored.add(sub.clientId)
    return outgoingEnqueue.call(store, sub, packet, cb)
  }
  store.outgoingEnqueueCombi = (subs, packet, cb) => {
    for (const sub of subs ?? []) mayHaveStored.add(sub.clientId)
    return outgoingEnqueueCombi.call(store, subs, packet, cb)
  }
  store.outgoingUpdate = (client, packet, cb) => {
    mayHaveStored.add(client.id)
    return outgoingUpdate.call(store, client, packet, cb)
  }
  store.outgoingClearMessageId = (client, packet, cb) => {
    if (packet.cmd === 'puback' && client.clean && !mayHaveStored.has(client.id)) {
      // What the store answers when it finds nothing: no original packet.
      if (cb !== undefined) return cb(null, undefined)
      return Promise.resolve(undefined)
    }
    return outgoingClearMessageId.call(store, client, packet, cb)
  }
}

/**
 * A retained message identical (QoS and payload) to the one this process last stored for its topic is not
 * written again: a relay board re-publishes its retained state after every command (200 level writes after an
 * emergency stop), mostly unchanged. Equivalent for subscribers: aedes delivers a stored retained message from its
 * topic, QoS and payload alone (lib/handlers/subscribe.js sendRetained). Every retained change, an empty payload
 * (delete) included, goes through storeRetained of this one store, so the cache cannot miss one; it starts empty.
 */
export function skipUnchangedRetained (store: ShortcutStore): void {
  const stored = new Map<string, { qos: number, payload: Buffer }>()
  const { storeRetained } = store
  store.storeRetained = (packet, cb) => {
    const { topic, qos, payload } = packet
    const last = stored.get(topic)
    if (last !== undefined && Buffer.isBuffer(payload) && last.qos === qos && last.payload.equals(payload)) {
      if (cb !== undefined) return cb(null)
      return Promise.resolve()
    }
    if (Buffer.isBuffer(payload) && payload.length > 0 && payload.length <= RETAINED_CACHE_MAX_BYTES) {
      stored.set(topic, { qos, payload: Buffer.from(payload) })
    } else {
      stored.delete(topic)
    }
    // A failed write must not be taken for the stored one.
    const failed = (): void => { stored.delete(topic) }
    if (cb !== undefined) {
      return storeRetained.call(store, packet, (err, p) => {
        if (err !== null && err !== undefined) failed()
        cb(err, p)
      })
    }
    const result = storeRetained.call(store, packet)
    if (result instanceof Promise) return result.catch((err: unknown) => { failed(); throw err })
    return result
  }
}

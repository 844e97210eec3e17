import type { Aedes, Client } from 'aedes'
import type { ClassicLevel } from 'classic-level'
import type { Principal } from '../auth/principal.js'
import type { Clock, Timer } from '../clock.js'
import type { Logger } from '../log.js'
import { forgetSession, recordedSessions } from './session-records.js'

type Callback = (err: Error | null, result?: unknown) => void

/** The part of an Aedes persistence (aedes-persistence's callback/promise layer) the session guards wrap. */
export interface SessionStore {
  addSubscriptions: (client: Pick<Client, 'id'>, subs: object[], cb?: Callback) => unknown
  outgoingEnqueueCombi: (
    subs: Array<{ clientId: string }> | null | undefined,
    packet: unknown,
    cb?: Callback
  ) => unknown
  outgoingClearMessageId: (client: Pick<Client, 'id'>, packet: { cmd?: string }, cb?: Callback) => unknown
  removeSubscriptions: (client: Pick<Client, 'id'>, topics: string[]) => Promise<unknown>
  cleanSubscriptions: (client: Pick<Client, 'id'>) => Promise<unknown>
  cleanIncoming: (client: Pick<Client, 'id'>) => Promise<unknown>
  delWill: (client: Pick<Client, 'id'>) => Promise<unknown>
}

function settle (result: unknown, cb: Callback | undefined): unknown {
  if (cb !== undefined) return cb(null)
  return result
}

/**
 * Aedes stores the whole SUBSCRIBE's filter list once per granted filter (lib/handlers/subscribe.js
 * storeSubscriptions, which is handed `packet.subscriptions`): refused filters land in the persistent session, and
 * N filters cost N² writes (N = 1,000: 14 s with the process blocked, +1.9 GB). Here each call keeps only the
 * subscriptions the hooks granted and did not store yet, so each granted filter is written once and no refused one.
 */
export function storeGrantedOnce (store: SessionStore, storable: (subs: object[]) => object[]): void {
  const { addSubscriptions } = store
  store.addSubscriptions = (client, subs, cb) => {
    const keep = storable(subs)
    if (keep.length === 0) return settle(Promise.resolve(), cb)
    return addSubscriptions.call(store, client, keep, cb)
  }
}

/**
 * Only what the session's identity may read is queued for an offline persistent session (`queueable`; a '#' of a
 * viewer would otherwise queue every command), and at most `max` messages; the ones past it are not queued for that
 * session (counted by `onRefused`). The count is this process's: it restarts at 0 after a restart, so the bound is
 * `max` per session per run.
 */
export function capQueuedMessages (
  store: SessionStore,
  max: number,
  queueable: (clientId: string, topic: string) => boolean,
  onRefused: () => void
): { forget: (clientId: string) => void } {
  const queued = new Map<string, number>()
  const { outgoingEnqueueCombi, outgoingClearMessageId } = store
  store.outgoingEnqueueCombi = (subs, packet, cb) => {
    const topic = (packet as { topic: string }).topic
    const keep = (subs ?? []).filter(sub => {
      if (!queueable(sub.clientId, topic)) return false
      const n = queued.get(sub.clientId) ?? 0
      if (n >= max) {
        onRefused()
        return false
      }
      queued.set(sub.clientId, n + 1)
      return true
    })
    return outgoingEnqueueCombi.call(store, keep, packet, cb)
  }
  store.outgoingClearMessageId = (client, packet, cb) => {
    const n = queued.get(client.id)
    if (n !== undefined) {
      if (n <= 1) queued.delete(client.id)
      else queued.set(client.id, n - 1)
    }
    return outgoingClearMessageId.call(store, client, packet, cb)
  }
  return { forget: clientId => { queued.delete(clientId) } }
}

/** Key prefixes of aedes-persistence-level (asyncPersistence.js); client ids are URI-encoded, then ':'. */
const SUBSCRIPTIONS = 'subscriptions:'
const clientRange = (prefix: string, clientId: string): { gte: string, lt: string } => {
  const p = `${prefix}${encodeURIComponent(clientId)}:`
  return { gte: p, lt: `${p.slice(0, -1)};` }
}

export interface SessionExpiryDeps {
  aedes: Aedes
  store: SessionStore
  db: ClassicLevel<string, unknown>
  clock: Clock
  log: Logger
  expiryMs: number
  principalOf: (client: Client) => Principal | undefined
  isDeviceId: (clientId: string) => Promise<boolean>
  onExpired: (clientId: string) => void
}

/**
 * Deletes persistent sessions (clean session 0) of users and anonymous clients that stayed offline past
 * mqtt.sessionExpiryMs: their subscriptions, queued messages and QoS 2 state. A device's session is kept (its
 * queued commands are its own). Sessions found in the store at start whose client id is not a device's are
 * counted from the start.
 */
export class SessionExpiry {
  private readonly offline = new Map<string, number>()
  private timer?: Timer

  constructor (private readonly deps: SessionExpiryDeps) {}

  private readonly onGone = (client: Client): void => {
    if (client.clean || client.id === undefined) return
    const principal = this.deps.principalOf(client)
    if (principal === undefined || principal.kind === 'device') return
    this.offline.set(client.id, this.deps.clock.now())
  }

  private readonly onReady = (client: Client): void => { this.offline.delete(client.id) }

  async start (): Promise<void> {
    const { aedes, db, clock, expiryMs } = this.deps
    const ids = new Set<string>()
    for await (const key of db.keys({ gte: SUBSCRIPTIONS, lt: 'subscriptions;' })) {
      ids.add(decodeURIComponent(key.slice(SUBSCRIPTIONS.length, key.indexOf(':', SUBSCRIPTIONS.length))))
    }
    for (const id of await recordedSessions(db)) ids.add(id)
    const now = clock.now()
    for (const id of ids) if (!(await this.deps.isDeviceId(id))) this.offline.set(id, now)
    aedes.on('clientDisconnect', this.onGone)
    aedes.on('clientReady', this.onReady)
    this.timer = clock.setInterval(
      () => {
        this.sweep().catch(err => this.deps.log.error({ err }, 'session expiry failed'))
      },
      Math.min(expiryMs, 60_000)
    )
  }

  async stop (): Promise<void> {
    this.timer?.cancel()
    this.deps.aedes.off('clientDisconnect', this.onGone)
    this.deps.aedes.off('clientReady', this.onReady)
  }

  /** Deletes the sessions offline for longer than the expiry. */
  async sweep (): Promise<void> {
    const { aedes, store, db, clock, expiryMs } = this.deps
    const now = clock.now()
    for (const [id, since] of this.offline) {
      if (now - since < expiryMs) continue
      this.offline.delete(id)
      // Reconnected meanwhile (an event missed): the live session stays.
      if ((aedes as unknown as { clients: Record<string, Client | undefined> }).clients[id] !== undefined) continue
      const client = { id }
      await store.cleanSubscriptions(client)
      await db.clear(clientRange('outgoing:', id))
      await db.clear(clientRange('outgoing-id:', id))
      await store.cleanIncoming(client)
      await forgetSession(db, id)
      this.deps.onExpired(id)
      this.deps.log.info({ clientId: id }, 'mqtt session expired')
    }
  }
}

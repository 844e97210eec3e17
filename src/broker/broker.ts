import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Aedes, type AedesOptions, type PublishPacket } from 'aedes'
import { ClassicLevel } from 'classic-level'
import aedesPersistenceLevel from 'aedes-persistence-level'
import type { Clock } from '../clock.js'
import type { Config } from '../config/types.js'
import type { Logger } from '../log.js'
import { skipCleanSessionAckLookups, skipUnchangedRetained, type ShortcutStore } from './store-shortcuts.js'
import { capQueuedMessages, storeGrantedOnce, type SessionStore } from './session-store.js'
import { recordSessions } from './session-records.js'

export interface Broker {
  readonly aedes: Aedes
  /** Publishes from the gateway itself (trusted, never through a socket); resolves once delivered to the emitter. */
  publish: (topic: string, payload: unknown, opts?: { qos?: 0 | 1 | 2, retain?: boolean }) => Promise<void>
  close: () => Promise<void>
  /** How many 'error' events the broker itself has emitted (autocore_broker_errors_total). */
  errors: () => number
  /** The session store and its LevelDB, for session expiry (session-store.ts). */
  readonly store: SessionStore
  readonly level: ClassicLevel<string, unknown>
  /** Forgets the queued-message count of a deleted session. */
  forgetQueue: (clientId: string) => void
}

/** The session guards of the hooks (hooks.ts), applied to the store. */
export interface StoreGuards {
  storable: (subs: object[]) => object[]
  queueable: (clientId: string, topic: string) => boolean
  onQueueRefused: () => void
  useStore: (store: SessionStore) => void
}

/** At most one log line per this many ms for the broker's own errors; the rest are counted in the next line. */
const ERROR_LOG_INTERVAL_MS = 10_000

/**
 * This process's broker id: a persistent session's queue is kept in `brokerId:brokerCounter` order (the level
 * store's keys) and the counter starts again at every start, so the id begins with a 16-digit stamp that sorts
 * after every id already in the queues: what was queued before a restart comes back before what was queued after
 * it [MQTT-4.6.0-6]. The stamp is the clock, or one above the highest stamp stored when the clock is behind (a Pi
 * without a real-time clock may boot with an older time than the last run had).
 */
export async function brokerIdAfter (level: ClassicLevel<string, unknown>, now: number): Promise<string> {
  let last = 0
  for await (const key of level.keys({ gte: 'outgoing:', lt: 'outgoing;' })) {
    const stamp = /^(\d{16})-/.exec(key.split(':')[2] ?? '')
    if (stamp !== null) last = Math.max(last, Number(stamp[1]))
  }
  return `${String(Math.max(Math.floor(now), last + 1)).padStart(16, '0')}-${randomUUID()}`
}

/** Creates the in-process Aedes broker with its level store under <dataDir>/mqtt. */
export async function createBroker (
  config: Pick<Config, 'dataDir' | 'mqtt'>,
  hooks: Partial<AedesOptions>,
  log: Logger,
  clock: Pick<Clock, 'now'>,
  guards?: StoreGuards
): Promise<Broker> {
  const dir = join(config.dataDir, 'mqtt')
  mkdirSync(dir, { recursive: true })
  const level = new ClassicLevel<string, unknown>(dir)
  const persistence = aedesPersistenceLevel(level)
  recordSessions(persistence, level as unknown as ClassicLevel<string, string>)
  skipCleanSessionAckLookups(persistence as unknown as ShortcutStore)
  skipUnchangedRetained(persistence as unknown as ShortcutStore)
  const store = persistence as unknown as SessionStore
  let forgetQueue = (_clientId: string): void => {}
  if (guards !== undefined) {
    storeGrantedOnce(store, guards.storable)
    guards.useStore(store)
    forgetQueue = capQueuedMessages(
      store,
      config.mqtt.maxQueuedMessagesPerSession,
      guards.queueable,
      guards.onQueueRefused
    ).forget
  }
  await level.open()
  const aedes = await Aedes.createBroker({
    ...hooks,
    id: await brokerIdAfter(level, clock.now()),
    persistence: persistence as unknown as AedesOptions['persistence'],
    concurrency: config.mqtt.concurrency,
    connectTimeout: config.mqtt.connectTimeoutMs,
    heartbeatInterval: config.mqtt.heartbeatIntervalMs,
    maxTopicLevels: config.mqtt.maxTopicLevels,
    maxInflightInbound: config.mqtt.maxInflightInbound,
    maxClientsIdLength: config.mqtt.maxClientIdLength
  } as AedesOptions)

  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'))
  aedes.on('connectionError', (client, err) =>
    log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error')
  )
  // Aedes emits 'error' on the broker itself when a will or the persistence fails (lib/client.js, aedes.js); with
  // no listener an EventEmitter throws it and the process dies (#13). Logged (rate-limited) and counted.
  let errors = 0
  let suppressed = 0
  let loggedAt = -Infinity
  const emitter = aedes as unknown as NodeJS.EventEmitter // 'error' is not in Aedes' typed events
  emitter.on('error', (err: Error) => {
    errors++
    const now = clock.now()
    if (now - loggedAt < ERROR_LOG_INTERVAL_MS) {
      suppressed++
      return
    }
    log.error({ err, suppressed }, 'mqtt broker error')
    loggedAt = now
    suppressed = 0
  })

  return {
    aedes,
    errors: () => errors,
    store,
    level,
    forgetQueue,
    publish (topic, payload, opts = {}) {
      const body = Buffer.isBuffer(payload)
        ? payload
        : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))
      const packet: PublishPacket = {
        cmd: 'publish',
        topic,
        payload: body,
        qos: opts.qos ?? 1,
        retain: opts.retain ?? false,
        dup: false
      }
      return new Promise((resolve, reject) => aedes.publish(packet, err => err != null ? reject(err) : resolve()))
    },
    async close () {
      await new Promise<void>(resolve => aedes.close(() => resolve()))
      // broker.close() leaves the level store open; a reopen of the same path would fail without this.
      // The promise form: the callback form of this wrapper waits for a 'ready' that Aedes 1.x never triggers.
      await persistence.destroy()
    }
  }
}

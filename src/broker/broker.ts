import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Aedes, type AedesOptions, type PublishPacket } from 'aedes'
import { ClassicLevel } from 'classic-level'
import aedesPersistenceLevel from 'aedes-persistence-level'
import type { Config } from '../config/types.js'
import type { Logger } from '../log.js'
import { skipCleanSessionAckLookups, skipUnchangedRetained, type ShortcutStore } from './store-shortcuts.js'
import { recordSessions } from './session-records.js'

export interface Broker {
  readonly aedes: Aedes
  /** Publishes from the gateway itself (trusted, never through a socket); resolves once delivered to the emitter. */
  publish: (topic: string, payload: unknown, opts?: { qos?: 0 | 1 | 2, retain?: boolean }) => Promise<void>
  close: () => Promise<void>
}

/** Creates the in-process Aedes broker with its level store under <dataDir>/mqtt. */
export async function createBroker (
  config: Pick<Config, 'dataDir' | 'mqtt'>,
  hooks: Partial<AedesOptions>,
  log: Logger
): Promise<Broker> {
  const dir = join(config.dataDir, 'mqtt')
  mkdirSync(dir, { recursive: true })
  const db = new ClassicLevel<string, string>(dir)
  const persistence = aedesPersistenceLevel(db)
  recordSessions(persistence, db)
  skipCleanSessionAckLookups(persistence as unknown as ShortcutStore)
  skipUnchangedRetained(persistence as unknown as ShortcutStore)
  const aedes = await Aedes.createBroker({
    ...hooks,
    persistence: persistence as unknown as AedesOptions['persistence'],
    concurrency: config.mqtt.concurrency,
    connectTimeout: config.mqtt.connectTimeoutMs,
    heartbeatInterval: config.mqtt.heartbeatIntervalMs,
    maxTopicLevels: config.mqtt.maxTopicLevels,
    maxInflightInbound: config.mqtt.maxInflightInbound,
    maxClientsIdLength: config.mqtt.maxClientIdLength
  } as AedesOptions)

  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'))
  aedes.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'))

  return {
    aedes,
    publish (topic, payload, opts = {}) {
      const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))
      const packet: PublishPacket = { cmd: 'publish', topic, payload: body, qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false }
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

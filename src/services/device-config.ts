import type { Service } from '../context.js'
import type { Services } from './index.js'
import { GatewayError } from '../errors.js'
import { retainedMessages } from '../broker/retained.js'
import {
  topicOf, familyTopic, type ConfigUpdatePayload, type DeadmanAnnouncement, type DeviceConfigPayload
} from '../protocol/index.js'
import type { Logger } from '../log.js'
import type { DeviceConfigRepository, DeviceConfigRow } from '../persistence/repositories/device-config.js'
import type { Actor } from '../auth/actor.js'
import type { ControlJournal } from './journal.js'
import { serialQueue, type SerialQueue } from './serial-queue.js'

/** What the API shows of one device's configuration. */
export interface DeviceConfigView {
  uuid: string
  version: number
  appliedVersion: number | null
  lagging: boolean
  config: Record<string, unknown>
}

type Deps = Pick<Services, 'config' | 'log' | 'clock' | 'broker' | 'events' | 'bus' | 'repos' | 'journal'>

/** A device lags when it has a config (version > 0) and reports none applied, or an older one. */
export function isLagging (row: Pick<DeviceConfigRow, 'configVersion' | 'appliedConfigVersion'>): boolean {
  return row.configVersion > 0 && (row.appliedConfigVersion === null || row.appliedConfigVersion < row.configVersion)
}

function payloadOf (row: Pick<DeviceConfigRow, 'configVersion' | 'config'>, deadman: DeadmanAnnouncement): Buffer {
  const body: DeviceConfigPayload = { version: row.configVersion, config: row.config ?? {}, deadman }
  return Buffer.from(JSON.stringify(body))
}

/**
 * Device configuration distribution (SPEC §3, §4): every device's `{version, config}` is retained on
 * `autocore/devices/{uuid}/config` (QoS 1), so a device gets it when it subscribes, again when it publishes
 * `.../config/request`, and at once when an admin changes it (then `autocore/config/update` announces the new
 * version). Per device, changes and answers are published in the order they were stored, each after its commit,
 * so the retained message is never older than the store. A device provisioned while the gateway runs gets its
 * retained config when it first comes online. Devices report the version they applied in `status`.
 */
export class DeviceConfigService implements Service {
  readonly name = 'device-config'
  private readonly repo: DeviceConfigRepository
  private readonly log: Logger
  private readonly queue: SerialQueue
  /** Devices with an answer already queued: a burst of requests costs one publish. */
  private readonly requested = new Set<string>()
  /** Devices whose retained config is known to be in the broker's store. */
  private readonly present = new Set<string>()
  /** A device deleted over the API: its retained config goes with it. */
  private readonly onDeleted = ({ uuid }: { uuid: string }): void => {
    this.forget(uuid).catch(err => this.log.error({ err, uuid }, 'retained config not cleared'))
  }

  private readonly onOnline = ({ uuid }: { uuid: string }): void => {
    if (this.present.has(uuid)) return
    this.request(uuid).catch(err => this.log.error({ err, deviceUuid: uuid }, 'device config not published'))
  }

  private readonly journal: ControlJournal

  constructor (private readonly deps: Deps) {
    this.repo = deps.repos.deviceConfigs
    this.log = deps.log.child({ module: 'device-config' })
    this.queue = serialQueue()
    this.journal = deps.journal
  }

  /** Makes sure every device's retained config is present and current; clears those of devices no longer stored. */
  async start (): Promise<void> {
    const retained = await retainedMessages(this.deps.broker.aedes, familyTopic('deviceConfig'))
    let published = 0
    const rows = await this.repo.all()
    const failSafe = await this.repo.failSafeOff()
    for (const row of rows) {
      const topic = topicOf('deviceConfig', { uuid: row.uuid })
      const have = retained.get(topic)
      retained.delete(topic)
      this.present.add(row.uuid)
      const want = payloadOf(row, this.deadman(failSafe.get(row.uuid)))
      if (have?.equals(want) === true) continue
      await this.deps.broker.publish(topic, want, { qos: 1, retain: true })
      published++
    }
    for (const topic of retained.keys()) {
      await this.deps.broker.publish(topic, Buffer.alloc(0), { qos: 1, retain: true })
    }
    this.log.info({ devices: rows.length, published, cleared: retained.size }, 'device configs retained')
    this.deps.bus.on('device.online', this.onOnline)
    this.deps.bus.on('device.deleted', this.onDeleted)
  }

  async stop (): Promise<void> {
    this.deps.bus.off('device.online', this.onOnline)
    this.deps.bus.off('device.deleted', this.onDeleted)
    await this.queue.idle()
  }

  async view (uuid: string): Promise<DeviceConfigView> {
    const row = await this.repo.byUuid(uuid)
    if (row === undefined) throw new GatewayError('GW_ERR_DEVICE_NOT_FOUND', `no device ${uuid}`)
    return {
      uuid,
      version: row.configVersion,
      appliedVersion: row.appliedConfigVersion,
      lagging: isLagging(row),
      config: row.config ?? {}
    }
  }

  /** A page of the devices whose applied version lags (see isLagging). */
  async lagging (page: { limit: number, offset: number }): Promise<{ items: DeviceConfigRow[], total: number }> {
    return await this.repo.lagging(page)
  }

  /**
   * Replaces a device's config: bumps config_version, then (after the commit) re-publishes the retained config and
   * announces `{scope: 'device', uuid, version}` on `autocore/config/update`. With `expectedVersion`, only if the
   * stored version is still that one (409 otherwise).
   */
  async update (
    uuid: string,
    config: Record<string, unknown>,
    opts: { expectedVersion?: number, username?: string, actor?: Actor } = {}
  ): Promise<{ uuid: string, version: number }> {
    const what = { action: 'device.config', target: `device:${uuid}` }
    try {
      return await this.updateNow(uuid, config, opts, what)
    } catch (err) {
      if (opts.actor !== undefined) {
        await this.journal.refused(
          opts.actor,
          { ...what, params: { expected_version: opts.expectedVersion ?? null } },
          err
        )
      }
      throw err
    }
  }

  private async updateNow (
    uuid: string,
    config: Record<string, unknown>,
    opts: { expectedVersion?: number, username?: string, actor?: Actor },
    what: { action: string, target: string }
  ): Promise<{ uuid: string, version: number }> {
    // The widest version a device could be sent; the device must be able to take the message.
    const bytes = Buffer.byteLength(JSON.stringify({ version: 2147483647, config }))
    if (bytes > this.deps.config.mqtt.maxPayloadBytes) {
      throw new GatewayError(
        'GW_ERR_DEVICE_CONFIG_TOO_LARGE',
        `the config message would be ${bytes} bytes, over mqtt.maxPayloadBytes ` +
          `(${this.deps.config.mqtt.maxPayloadBytes})`
      )
    }
    return await this.queue.run(uuid, async () => {
      const version = await this.repo.replace(uuid, config, opts.expectedVersion, this.deps.clock.now())
      if (version === undefined) throw new GatewayError('GW_ERR_DEVICE_NOT_FOUND', `no device ${uuid}`)
      if (version === 'conflict') {
        throw new GatewayError(
          'GW_ERR_DEVICE_CONFIG_CONFLICT',
          `the config of ${uuid} is no longer at version ${String(opts.expectedVersion)}`
        )
      }
      // Journaled before the config is published to the device.
      if (opts.actor !== undefined) await this.journal.accepted(opts.actor, { ...what, params: { version } })
      const failSafe = (await this.repo.failSafeOff(uuid)).get(uuid)
      await this.deps.broker.publish(
        topicOf('deviceConfig', { uuid }),
        payloadOf({ configVersion: version, config }, this.deadman(failSafe)),
        { qos: 1, retain: true }
      )
      this.present.add(uuid)
      const update: ConfigUpdatePayload = { scope: 'device', uuid, version }
      await this.deps.broker.publish(topicOf('configUpdate'), update, { qos: 1 })
      this.log.info({ deviceUuid: uuid, version, username: opts.username }, 'device config changed')
      void this.deps.events.log({
        level: 'info',
        type: 'device_config_changed',
        source: 'api',
        target: uuid,
        username: opts.username,
        payload: { version }
      })
      return { uuid, version }
    })
  }

  /** The heartbeat contract a device is held to (README "Gateway heartbeat"). */
  private deadman (failSafeOff: number[] = []): DeadmanAnnouncement {
    const { gatewayId, gateway } = this.deps.config
    return {
      heartbeat_topic: topicOf('gatewayHeartbeat', { id: gatewayId }),
      heartbeat_ms: gateway.heartbeatMs,
      misses: gateway.deadmanMisses,
      fail_safe_off: failSafeOff
    }
  }

  /**
   * `.../config/request` from the device: re-publishes its stored config (retained). Requests already queued coalesce.
   */
  async request (uuid: string): Promise<void> {
    if (this.requested.has(uuid)) return
    this.requested.add(uuid)
    await this.queue.run(uuid, async () => {
      this.requested.delete(uuid)
      const row = await this.repo.byUuid(uuid)
      if (row === undefined) return
      const failSafe = (await this.repo.failSafeOff(uuid)).get(uuid)
      await this.deps.broker.publish(topicOf('deviceConfig', { uuid }), payloadOf(row, this.deadman(failSafe)), {
        qos: 1,
        retain: true
      })
      this.present.add(uuid)
    })
  }

  /** The `config_version` a device reported in its status: stored as devices.applied_config_version. */
  async reportApplied (uuid: string, version: number): Promise<void> {
    if (await this.repo.setApplied(uuid, version, this.deps.clock.now())) {
      this.log.debug({ deviceUuid: uuid, version }, 'device config applied')
    }
  }

  /** Clears a device's retained config (for a device being deleted): its topic then holds nothing. */
  async forget (uuid: string): Promise<void> {
    await this.queue.run(uuid, async () => {
      await this.deps.broker.publish(topicOf('deviceConfig', { uuid }), Buffer.alloc(0), { qos: 1, retain: true })
      this.present.delete(uuid)
    })
  }
}

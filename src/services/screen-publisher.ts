import type { Screen, ScreenItem } from '../../entities/index.js'
import { retainedMessages } from '../broker/retained.js'
import type { Service } from '../context.js'
import type { Logger } from '../log.js'
import { familyTopic, topicOf, type ConfigUpdatePayload, type ScreenPayload } from '../protocol/index.js'
import type { Services } from './index.js'
import { serialQueue, type SerialQueue } from './serial-queue.js'

type Deps = Pick<Services, 'log' | 'broker' | 'repos'>

const ALL = 'screens'
type JsonObject = Record<string, unknown> | null

/**
 * The displays' screens (issue #20): every enabled screen is retained on `autocore/config/screens/{id}` (QoS 1)
 * with its items in order, each naming the relay channel it controls by board UUID and channel number, so a
 * display gets its layout when it subscribes to `autocore/config/#` and at once when an admin changes it (then
 * `{scope: 'screen', id}` on `autocore/config/update`). A disabled or deleted screen's retained message is
 * cleared. Changes publish one at a time, after the commit, from what is stored: never older than the store.
 */
export class ScreenPublisher implements Service {
  readonly name = 'screens'
  private readonly log: Logger
  private readonly queue: SerialQueue

  constructor (private readonly deps: Deps) {
    this.log = deps.log.child({ module: 'screens' })
    this.queue = serialQueue()
  }

  /** Publishes what is missing or stale, clears the retained screens no longer stored or enabled. */
  async start (): Promise<void> {
    await this.queue.run(ALL, async () => {
      const retained = await retainedMessages(this.deps.broker.aedes, familyTopic('configScreen'))
      let published = 0
      for (const screen of await this.deps.repos.screens.all()) {
        // A disabled screen's retained message stays in `retained`: cleared below.
        if (!screen.enabled) continue
        const topic = topicOf('configScreen', { id: String(screen.id) })
        const want = await this.stale(screen, retained)
        retained.delete(topic)
        if (want === undefined) continue
        await this.deps.broker.publish(topic, want, { qos: 1, retain: true })
        published++
      }
      for (const topic of retained.keys()) {
        await this.deps.broker.publish(topic, Buffer.alloc(0), { qos: 1, retain: true })
      }
      this.log.info({ published, cleared: retained.size }, 'screens retained')
    })
  }

  async stop (): Promise<void> {
    await this.queue.idle()
  }

  /**
   * Re-publishes one screen as stored now (after a change to it or its items), or, with no id (after a relay
   * channel a screen may name changed or went away), every screen whose message that changed: the others are
   * neither re-sent nor announced, so displays do not redraw for nothing.
   */
  async changed (screenId?: number): Promise<void> {
    await this.queue.run(ALL, async () => {
      if (screenId !== undefined) { await this.publish(screenId); return }
      const retained = await retainedMessages(this.deps.broker.aedes, familyTopic('configScreen'))
      for (const screen of await this.deps.repos.screens.all()) {
        if (await this.stale(screen, retained) !== undefined) await this.publish(screen.id)
      }
    })
  }

  /** The screen's message (empty for a disabled one) when the retained one differs from it, else undefined. */
  private async stale (screen: Screen, retained: Map<string, Buffer>): Promise<Buffer | undefined> {
    const have = retained.get(topicOf('configScreen', { id: String(screen.id) })) ?? Buffer.alloc(0)
    const want = screen.enabled ? Buffer.from(JSON.stringify(await this.payloadOf(screen))) : Buffer.alloc(0)
    return have.equals(want) ? undefined : want
  }

  private async publish (id: number): Promise<void> {
    const topic = topicOf('configScreen', { id: String(id) })
    const screen = await this.deps.repos.screens.byId(id)
    if (screen === undefined || !screen.enabled) {
      await this.deps.broker.publish(topic, Buffer.alloc(0), { qos: 1, retain: true })
    } else {
      await this.deps.broker.publish(topic, await this.payloadOf(screen), { qos: 1, retain: true })
    }
    const update: ConfigUpdatePayload = { scope: 'screen', id }
    await this.deps.broker.publish(topicOf('configUpdate'), update, { qos: 1 })
  }

  private async payloadOf (screen: Screen): Promise<ScreenPayload> {
    const items = await this.deps.repos.screens.allItemsOf(screen.id)
    const bound = items.map(i => i.relayChannelId).filter((id): id is number => id !== null)
    const channels = new Map((await this.deps.repos.relays.byIds(bound)).map(c => [c.id, c]))
    const itemOf = (i: ScreenItem): ScreenPayload['items'][number] => {
      const c = i.relayChannelId === null ? undefined : channels.get(i.relayChannelId)
      return {
        id: i.id,
        type: i.itemType,
        label: i.label,
        position: i.position,
        relay: c === undefined
          ? null
          : { uuid: c.deviceUuid, channel: c.channelNumber, name: c.name, function: c.function },
        mutex_group: i.mutexGroup,
        action: i.action as JsonObject,
        data_source: i.dataSource as JsonObject,
        style: i.style as JsonObject
      }
    }
    return {
      id: screen.id,
      name: screen.name,
      title: screen.title,
      device_type: screen.deviceType,
      position: screen.position,
      items: items.map(itemOf)
    }
  }
}

import type { Client, PublishPacket } from 'aedes'
import type { Step } from '../broker/pipeline.js'
import { families, parseTopic, PREFIX } from '../protocol/index.js'

/** Messages of one topic family (SPEC §3, named as in protocol/families.ts), or 'other' for topics outside it. */
export interface FamilyCount {
  readonly family: string
  /** Publishes clients sent into the broker (allowed by the ACL; counted before any step may drop them). */
  in: number
  /** Publishes the gateway itself made (commands, states, events…). */
  out: number
}

/**
 * Distinct topics remembered; past this the cache starts over (a client inventing topics costs memory only up to here).
 */
const MAX_CACHED_TOPICS = 10_000
const DOLLAR = 0x24

/**
 * `autocore_messages_total{family,direction}` on the publish hot path: one Map lookup of the family's counter
 * object and an increment (inbound: the pipeline's parsed topic; outbound: the topic is parsed only the first time
 * it is seen), and labels are built only at scrape time (metrics.ts reads `all()`).
 */
export class MessageCounts {
  private readonly byFamily = new Map<string, FamilyCount>()
  private readonly byTopic = new Map<string, FamilyCount>()
  private readonly other: FamilyCount = this.family('other')
  private readonly prefix = PREFIX + '/'

  /** The first inbound step (gateway/inbound.ts): counts by the topic parsed once per publish, never decides. */
  readonly inbound: Step = ({ family }) => {
    (family === undefined ? this.other : this.family(family)).in++
    return 'deliver'
  }

  /**
   * Aedes' 'publish' event (after delivery): the gateway's own publishes have no client. Client publishes were
   * counted by `inbound`; '$' topics are the broker's (heartbeats, dropped packets).
   */
  readonly published = (packet: PublishPacket, client: Client | null): void => {
    if (client === null && packet.topic.charCodeAt(0) !== DOLLAR) this.countOf(packet.topic).out++
  }

  all (): Iterable<FamilyCount> {
    return this.byFamily.values()
  }

  private countOf (topic: string): FamilyCount {
    if (!topic.startsWith(this.prefix)) return this.other
    let count = this.byTopic.get(topic)
    if (count === undefined) {
      const family = parseTopic(topic)?.family
      count = family === undefined ? this.other : this.family(family)
      if (this.byTopic.size >= MAX_CACHED_TOPICS) this.byTopic.clear()
      this.byTopic.set(topic, count)
    }
    return count
  }

  private family (name: keyof typeof families | 'other'): FamilyCount {
    let count = this.byFamily.get(name)
    if (count === undefined) {
      count = { family: name, in: 0, out: 0 }
      this.byFamily.set(name, count)
    }
    return count
  }
}

import type { Aedes } from 'aedes'

/**
 * The retained messages matching `filter`, read from the broker's store (topic → payload). Used at start to
 * re-publish only what is missing or stale, so subscribers are not sent a copy of what they already have.
 */
export async function retainedMessages (aedes: Aedes, filter: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  // aedes' types leave `persistence` out; aedes-persistence-level's stream is an async iterable of packets.
  const { persistence } = aedes as unknown as {
    persistence: {
      createRetainedStream: (pattern: string) => AsyncIterable<{ topic: string, payload: Buffer | string }>
    }
  }
  const stream = persistence.createRetainedStream(filter)
  for await (const packet of stream) {
    out.set(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload))
  }
  return out
}

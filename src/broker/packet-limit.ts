import type { Readable } from 'node:stream'

/** How big an MQTT packet may be, judged on its fixed header (mqtt.maxConnectBytes, mqtt.maxPacketBytes). */
export interface PacketLimits {
  /** Largest remaining length of a packet read before the connection is authenticated (its CONNECT). */
  maxConnectBytes: number
  /** Largest remaining length of any packet once authenticated. */
  maxPacketBytes: number
  /** A connection cut for announcing a larger packet. */
  onTooLarge: (e: TooLarge) => void
}

export interface TooLarge {
  transport: 'tcp' | 'tls' | 'ws'
  /** 'connect' while not yet authenticated, else 'packet'. */
  stage: 'connect' | 'packet'
  /** The remaining length the fixed header announced (unknown for a WebSocket message over its limit). */
  announced?: number
  limit: number
  remoteAddress: string | undefined
}

/** Bytes of a fixed header at most: the type/flags byte and a 4-byte remaining length [MQTT-2.2.3]. */
export const MAX_FIXED_HEADER = 5

/**
 * Follows the packet boundaries of one MQTT byte stream by reading fixed headers only: the first byte, then the
 * remaining length (1 to 4 bytes, MQTT 3.1.1 §2.2.3), then skips that many bytes without looking at them. Each
 * chunk costs a few comparisons per packet, not per byte.
 */
export class FixedHeaderScanner {
  private skip = 0
  private inLength = false
  private value = 0
  private multiplier = 1
  private lengthBytes = 0
  /** Set once the stream is malformed (a fifth length byte): the parser refuses it, nothing more to follow. */
  private lost = false

  /** `limit()` is asked at each completed length. Returns the announced length when it is over, else undefined. */
  feed (chunk: Uint8Array, limit: () => number): number | undefined {
    let i = 0
    while (i < chunk.length && !this.lost) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i)
        this.skip -= n
        i += n
        continue
      }
      const byte = chunk[i++]
      if (!this.inLength) {
        this.inLength = true
        this.value = 0
        this.multiplier = 1
        this.lengthBytes = 0
        continue
      }
      this.value += (byte & 0x7f) * this.multiplier
      this.multiplier *= 128
      this.lengthBytes++
      if ((byte & 0x80) !== 0) {
        // A fifth length byte is malformed [MQTT-2.2.3]: mqtt-packet refuses it and Aedes closes the connection.
        if (this.lengthBytes === 4) this.lost = true
        continue
      }
      this.inLength = false
      if (this.value > limit()) return this.value
      this.skip = this.value
    }
    return undefined
  }
}

/**
 * Holds every packet on `stream` to the limits before Aedes' parser buffers it. Aedes reads its connection with
 * `read()` (lib/client.js nextBatch) and mqtt-packet keeps a partial packet until its last byte has come, so a
 * header announcing 256 MB would otherwise have the process collect 256 MB per socket (#13). Each chunk Aedes
 * reads is scanned first; a packet announcing more than the limit closes the connection there, as MQTT 3.1.1 has
 * no packet to say so [MQTT-4.8.0-1]. Before the CONNECT is accepted the smaller maxConnectBytes applies.
 */
export function limitPacketSize (
  stream: Readable,
  authenticated: () => boolean,
  limits: PacketLimits,
  transport: TooLarge['transport'],
  remoteAddress: string | undefined
): void {
  const scanner = new FixedHeaderScanner()
  const read = stream.read
  const limit = (): number => authenticated() ? limits.maxPacketBytes : limits.maxConnectBytes
  stream.read = function (this: Readable, size?: number): unknown {
    const chunk: unknown = read.call(this, size)
    if (chunk === null || !(chunk instanceof Uint8Array) || stream.destroyed) return chunk
    const announced = scanner.feed(chunk, limit)
    if (announced === undefined) return chunk
    const stage = authenticated() ? 'packet' : 'connect'
    limits.onTooLarge({ transport, stage, announced, limit: limit(), remoteAddress })
    stream.destroy()
    return null
  } as Readable['read']
}

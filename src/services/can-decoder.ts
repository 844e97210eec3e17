/**
 * CAN signal decoding, pure functions. Bit numbering follows the DBC conventions (Vector's format):
 * - little endian ("Intel", `@1`): `startBit` is the least significant bit, counted from bit 0 of byte 0 upward
 *   (bit n is bit n % 8 of byte n / 8); the signal continues into higher bits.
 * - big endian ("Motorola", `@0`): `startBit` is the MOST significant bit in the same numbering; the signal runs
 *   toward lower bits of that byte, then on from bit 7 of the next byte (the DBC "sawtooth").
 * physical = raw × scale + offset, raw read as two's complement when the signal is signed.
 */
export interface SignalLayout {
  startBit: number
  length: number
  byteOrder: 'little' | 'big'
  isSigned: boolean
  scale: number
  offset: number
}

/** The raw unsigned bits of a signal, or undefined when the frame is too short for it. */
export function extractBits (
  data: Uint8Array,
  startBit: number,
  length: number,
  byteOrder: 'little' | 'big'
): bigint | undefined {
  if (length < 1 || length > 64 || startBit < 0) return undefined
  let raw = 0n
  if (byteOrder === 'little') {
    if ((startBit + length - 1) >> 3 >= data.length) return undefined
    for (let i = length - 1; i >= 0; i--) {
      const pos = startBit + i
      raw = (raw << 1n) | BigInt((data[pos >> 3] >> (pos & 7)) & 1)
    }
    return raw
  }
  let pos = startBit
  for (let i = 0; i < length; i++) {
    if (pos >> 3 >= data.length) return undefined
    raw = (raw << 1n) | BigInt((data[pos >> 3] >> (pos & 7)) & 1)
    // Past bit 0 of a byte, the next lower-significance bit is bit 7 of the following byte.
    pos = (pos & 7) === 0 ? pos + 15 : pos - 1
  }
  return raw
}

/** True when the signal's bits lie within a frame of `frameBytes` bytes (classic CAN: 8), by the same numbering. */
export function fitsInFrame (startBit: number, length: number, byteOrder: 'little' | 'big', frameBytes = 8): boolean {
  return extractBits(new Uint8Array(frameBytes), startBit, length, byteOrder) !== undefined
}

/** The physical value of one signal in a frame, or undefined when the frame is too short. */
export function decodeSignal (data: Uint8Array, s: SignalLayout): number | undefined {
  const bits = extractBits(data, s.startBit, s.length, s.byteOrder)
  if (bits === undefined) return undefined
  let raw = bits
  if (s.isSigned && (bits >> BigInt(s.length - 1)) & 1n) raw = bits - (1n << BigInt(s.length))
  return Number(raw) * s.scale + s.offset
}

/**
 * Frame data from hex (`"1A2B"`, `"1a 2b"`, `"1A:2B"`); undefined when it is not hex or longer than 64 bytes (CAN FD).
 */
export function parseHexData (hex: string): Uint8Array | undefined {
  const clean = hex.replace(/[\s:]/g, '')
  if (clean.length % 2 !== 0 || clean.length > 128 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined
  return Uint8Array.from(Buffer.from(clean, 'hex'))
}

/** The 64 bits of a double, as a hex string: a comparison bit for bit (NaN payloads, -0). */
export function bits (v: number | null): string | null {
  if (v === null) return null
  const d = new DataView(new ArrayBuffer(8))
  d.setFloat64(0, v)
  return d.getBigUint64(0).toString(16)
}

/** The double of 64 bits. */
export function fromBits (b: bigint): number {
  const d = new DataView(new ArrayBuffer(8))
  d.setBigUint64(0, b)
  return d.getFloat64(0)
}

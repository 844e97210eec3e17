/** An append-only bit stream, most significant bit first; grows as needed. */
export class BitWriter {
  private buf: Uint8Array
  private byte = 0
  private bit = 0

  constructor (capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity))
  }

  /** Writes the low `n` bits of `v` (0 <= n <= 32, v an unsigned integer below 2^n). */
  write (v: number, n: number): void {
    while (n > 0) {
      if (this.byte >= this.buf.length - 1) this.grow()
      const free = 8 - this.bit
      const take = free < n ? free : n
      const chunk = (v >>> (n - take)) & ((1 << take) - 1)
      this.buf[this.byte] |= chunk << (free - take)
      this.bit += take
      n -= take
      if (this.bit === 8) { this.byte++; this.bit = 0 }
    }
  }

  /** Writes the low `n` bits (0 <= n <= 64) of the 64-bit value hi:lo. */
  write64 (hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.write(hi & (n === 64 ? 0xffffffff : (2 ** (n - 32)) - 1), n - 32)
      this.write(lo >>> 0, 32)
    } else {
      this.write(n === 32 ? lo >>> 0 : lo & ((2 ** n) - 1), n)
    }
  }

  /** Writes a non-negative safe integer below 2^n, n <= 53. */
  writeUint (v: number, n: number): void {
    if (n <= 32) this.write(v, n)
    else this.write64(Math.floor(v / 2 ** 32), v % 2 ** 32, n)
  }

  /** The bytes written so far (the last byte padded with zero bits). */
  bytes (): Uint8Array {
    return this.buf.slice(0, this.bit === 0 ? this.byte : this.byte + 1)
  }

  private grow (): void {
    const next = new Uint8Array(this.buf.length * 2)
    next.set(this.buf)
    this.buf = next
  }
}

export class BitReader {
  private byte = 0
  private bit = 0

  constructor (private readonly buf: Uint8Array) {}

  /** Reads `n` bits (0 <= n <= 32) as an unsigned integer. */
  read (n: number): number {
    let r = 0
    while (n > 0) {
      if (this.byte >= this.buf.length) throw new RangeError('chunk truncated')
      const free = 8 - this.bit
      const take = free < n ? free : n
      const chunk = (this.buf[this.byte] >>> (free - take)) & ((1 << take) - 1)
      r = r * (1 << take) + chunk
      this.bit += take
      n -= take
      if (this.bit === 8) { this.byte++; this.bit = 0 }
    }
    return r
  }

  /** Reads a non-negative integer of `n` bits, n <= 53. */
  readUint (n: number): number {
    if (n <= 32) return this.read(n)
    const hi = this.read(n - 32)
    return hi * 2 ** 32 + this.read(32)
  }

  readBit (): number {
    return this.read(1)
  }
}

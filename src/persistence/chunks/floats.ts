import type { BitReader, BitWriter } from './bits.js'

function ctz32 (x: number): number { return x === 0 ? 32 : 31 - Math.clz32(x & -x) }

/** Writes `len` bits of the 64-bit hi:lo shifted right by `shift`. */
function writeShifted (w: BitWriter, hi: number, lo: number, shift: number, len: number): void {
  let h: number, l: number
  if (shift === 0) {
    h = hi; l = lo
  } else if (shift < 32) {
    l = ((lo >>> shift) | (hi << (32 - shift))) >>> 0; h = hi >>> shift
  } else {
    l = hi >>> (shift - 32); h = 0
  }
  w.write64(h, l, len)
}

/**
 * Gorilla's XOR of a double with the previous one: '0' same bits; '10' inside the previous window of meaningful
 * bits; '11' a new window (5 bits of leading zeros, 6 of length). Bit for bit: NaN payloads, -0, subnormals.
 */
/** What writer and reader both follow: the previous double's bits and the current window of meaningful bits. */
class XorWindow {
  protected readonly s = new DataView(new ArrayBuffer(8))
  protected hi = 0
  protected lo = 0
  protected leading = -1
  protected trailing = 0
}

export class XorWriter extends XorWindow {
  write (w: BitWriter, v: number): void {
    const s = this.s
    s.setFloat64(0, v)
    const hi = s.getUint32(0)
    const lo = s.getUint32(4)
    const xh = (hi ^ this.hi) >>> 0
    const xl = (lo ^ this.lo) >>> 0
    this.hi = hi
    this.lo = lo
    if (xh === 0 && xl === 0) { w.write(0, 1); return }
    let leading = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl)
    const trailing = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh)
    if (leading > 31) leading = 31
    if (this.leading >= 0 && leading >= this.leading && trailing >= this.trailing) {
      w.write(2, 2)
      writeShifted(w, xh, xl, this.trailing, 64 - this.leading - this.trailing)
    } else {
      const len = 64 - leading - trailing
      w.write(3, 2)
      w.write(leading, 5)
      w.write(len - 1, 6)
      writeShifted(w, xh, xl, trailing, len)
      this.leading = leading
      this.trailing = trailing
    }
  }
}

export class XorReader extends XorWindow {
  read (r: BitReader): number {
    if (r.readBit() === 1) {
      if (r.readBit() === 1) { this.leading = r.read(5); this.trailing = 64 - this.leading - (r.read(6) + 1) }
      const trailing = this.trailing
      const len = 64 - this.leading - trailing
      let xh = len > 32 ? r.read(len - 32) : 0
      let xl = r.read(len > 32 ? 32 : len)
      if (trailing >= 32) {
        xh = (xl << (trailing - 32)) >>> 0; xl = 0
      } else if (trailing > 0) {
        xh = ((xh << trailing) | (xl >>> (32 - trailing))) >>> 0; xl = (xl << trailing) >>> 0
      }
      this.hi = (this.hi ^ xh) >>> 0
      this.lo = (this.lo ^ xl) >>> 0
    }
    this.s.setUint32(0, this.hi)
    this.s.setUint32(4, this.lo)
    return this.s.getFloat64(0)
  }
}

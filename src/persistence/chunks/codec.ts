import type { TelemetryDataType } from '../../../entities/telemetry-data.js'
import { BitReader, BitWriter } from './bits.js'

/**
 * The chunk codec of one series (device, key), after Gorilla (Pelkonen et al., VLDB 2015) as Prometheus' TSDB
 * uses it: timestamps as delta-of-delta in variable-width buckets, numbers as the XOR with the previous number,
 * and a one-bit "unchanged" flag for the unit, the type and repeated texts. Readings are encoded in the order
 * given: a negative delta (a reading older than the previous one) is just another delta-of-delta, so a chunk
 * never needs sorting and decodes back in insertion order. Lossless: every double round-trips bit for bit
 * (-0, ±Infinity, subnormals, NaN with its payload), and so does any row telemetry_data can hold.
 */
export interface ChunkReading {
  /** telemetry_data.id the reading had (or would have had): kept so the raw page's cursor and items stay the same. */
  id: number
  ts: number
  value: number | null
  valueText: string | null
  unit: string | null
  dataType: TelemetryDataType
}

const VERSION = 1
/** Timestamps are integers in (-2^50, 2^50) ms (year ±37,000): deltas and delta-of-deltas stay exact doubles. */
export const MAX_ABS_TS = 2 ** 50
const MAX_TEXT_BYTES = 0xffff

// Type codes: the three shapes ingest writes, and a general one for any other row.
const NUMBER = 0
const BOOLEAN = 1
const STRING = 2
const GENERAL = 3

function zigzag (d: number): number { return d >= 0 ? d * 2 : -d * 2 - 1 }
function unzigzag (z: number): number { return z % 2 === 0 ? z / 2 : -(z + 1) / 2 }
function ctz32 (x: number): number { return x === 0 ? 32 : 31 - Math.clz32(x & -x) }

function typeCode (r: ChunkReading): number {
  if (r.valueText === null && r.value !== null) {
    if (r.dataType === 'number') return NUMBER
    if (r.dataType === 'boolean') return BOOLEAN
  } else if (r.dataType === 'string' && r.value === null && r.valueText !== null) return STRING
  return GENERAL
}

/** Appends readings of one series to a chunk; `bytes()` is the chunk so far. */
export class ChunkEncoder {
  private readonly w = new BitWriter()
  private readonly scratch = new DataView(new ArrayBuffer(8))
  private readonly text = new TextEncoder()
  private n = 0
  private prevTs = 0
  private prevDelta = 0
  private prevId = 0
  private prevIdDelta = 0
  private prevCode = -1
  private prevUnit: string | null = null
  private prevType: string | null = null
  private prevText: string | null = null
  private prevHi = 0
  private prevLo = 0
  private leading = -1
  private trailing = 0
  minTs = Infinity
  maxTs = -Infinity

  get count (): number { return this.n }

  append (r: ChunkReading): void {
    const ts = r.ts
    if (!Number.isInteger(ts) || Math.abs(ts) >= MAX_ABS_TS) throw new RangeError(`chunk timestamp out of range: ${ts}`)
    if (!Number.isInteger(r.id) || Math.abs(r.id) >= MAX_ABS_TS) throw new RangeError(`chunk id out of range: ${r.id}`)
    this.writeTs(ts, r.id)
    const code = typeCode(r)
    if (code === this.prevCode && r.unit === this.prevUnit && (code !== GENERAL || r.dataType === this.prevType)) {
      this.w.write(0, 1)
    } else {
      this.w.write(1, 1)
      this.w.write(code, 2)
      this.writeNullableString(r.unit)
      if (code === GENERAL) this.writeString(r.dataType)
      this.prevCode = code
      this.prevUnit = r.unit
      this.prevType = r.dataType
    }
    if (code === NUMBER || code === BOOLEAN) this.writeFloat(r.value as number)
    else if (code === STRING) this.writeText(r.valueText as string)
    else {
      this.w.write(r.value === null ? 0 : 1, 1)
      if (r.value !== null) {
        this.scratch.setFloat64(0, r.value)
        this.w.write(this.scratch.getUint32(0), 32)
        this.w.write(this.scratch.getUint32(4), 32)
      }
      this.writeNullableString(r.valueText)
    }
    this.n++
    if (ts < this.minTs) this.minTs = ts
    if (ts > this.maxTs) this.maxTs = ts
  }

  /** The chunk: a version byte, the reading count (32 bits), then the readings' bit stream. */
  bytes (): Uint8Array {
    const body = this.w.bytes()
    const out = new Uint8Array(5 + body.length)
    out[0] = VERSION
    new DataView(out.buffer).setUint32(1, this.n)
    out.set(body, 5)
    return out
  }

  /** The timestamp and the id, each as a delta-of-delta after the first. */
  private writeTs (ts: number, id: number): void {
    if (this.n === 0) {
      this.w.writeUint(zigzag(ts), 51)
      this.w.writeUint(zigzag(id), 51)
    } else {
      const delta = ts - this.prevTs
      writeDod(this.w, delta - this.prevDelta)
      this.prevDelta = delta
      const idDelta = id - this.prevId
      writeDod(this.w, idDelta - this.prevIdDelta)
      this.prevIdDelta = idDelta
    }
    this.prevTs = ts
    this.prevId = id
  }

  /** Gorilla's XOR: '0' same bits; '10' inside the previous window of meaningful bits; '11' a new window. */
  private writeFloat (v: number): void {
    const s = this.scratch
    s.setFloat64(0, v)
    const hi = s.getUint32(0)
    const lo = s.getUint32(4)
    const xh = (hi ^ this.prevHi) >>> 0
    const xl = (lo ^ this.prevLo) >>> 0
    this.prevHi = hi
    this.prevLo = lo
    const w = this.w
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

  private writeText (text: string): void {
    if (text === this.prevText) { this.w.write(0, 1); return }
    this.w.write(1, 1)
    this.writeString(text)
    this.prevText = text
  }

  private writeNullableString (s: string | null): void {
    this.w.write(s === null ? 0 : 1, 1)
    if (s !== null) this.writeString(s)
  }

  private writeString (s: string): void {
    const bytes = this.text.encode(s)
    if (bytes.length > MAX_TEXT_BYTES) throw new RangeError('chunk text longer than 65,535 bytes')
    this.w.write(bytes.length, 16)
    for (const b of bytes) this.w.write(b, 8)
  }
}

/** Delta-of-delta buckets: '0' for none; then 7, 9, 12, 32 or 53 bits of the zigzagged value. */
function writeDod (w: BitWriter, dod: number): void {
  if (dod === 0) { w.write(0, 1); return }
  const z = zigzag(dod)
  if (z < 2 ** 7) {
    w.write(0b10, 2)
    w.write(z, 7)
  } else if (z < 2 ** 9) {
    w.write(0b110, 3)
    w.write(z, 9)
  } else if (z < 2 ** 12) {
    w.write(0b1110, 4)
    w.write(z, 12)
  } else if (z < 2 ** 32) {
    w.write(0b11110, 5)
    w.write(z, 32)
  } else {
    w.write(0b11111, 5)
    w.writeUint(z, 53)
  }
}

function readDod (r: BitReader): number {
  if (r.readBit() === 0) return 0
  if (r.readBit() === 0) return unzigzag(r.read(7))
  if (r.readBit() === 0) return unzigzag(r.read(9))
  if (r.readBit() === 0) return unzigzag(r.read(12))
  if (r.readBit() === 0) return unzigzag(r.read(32))
  return unzigzag(r.readUint(53))
}

/** Writes `len` bits of the 64-bit hi:lo shifted right by `shift`. */
function writeShifted (w: BitWriter, hi: number, lo: number, shift: number, len: number): void {
  let h: number, l: number
  if (shift === 0) {
    h = hi
    l = lo
  } else if (shift < 32) {
    l = ((lo >>> shift) | (hi << (32 - shift))) >>> 0
    h = hi >>> shift
  } else {
    l = hi >>> (shift - 32)
    h = 0
  }
  w.write64(h, l, len)
}

/** Decodes a whole chunk, in the order its readings were appended. */
export function decodeChunk (bytes: Uint8Array): ChunkReading[] {
  const out: ChunkReading[] = []
  forEachReading(bytes, r => { out.push(r) })
  return out
}

/** Calls `visit` with each reading of a chunk in order; stops early when `visit` answers false. */
export function forEachReading (bytes: Uint8Array, visit: (r: ChunkReading) => boolean | undefined | void): void {
  if (bytes.length < 5 || bytes[0] !== VERSION) throw new RangeError('not a telemetry chunk')
  const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  const r = new BitReader(bytes.subarray(5))
  const s = new DataView(new ArrayBuffer(8))
  const text = new TextDecoder()
  const readString = (): string => {
    const n = r.read(16)
    const b = new Uint8Array(n)
    for (let i = 0; i < n; i++) b[i] = r.read(8)
    return text.decode(b)
  }
  const readNullable = (): string | null => r.readBit() === 0 ? null : readString()
  let ts = 0
  let delta = 0
  let id = 0
  let idDelta = 0
  let code = -1
  let unit: string | null = null
  let dataType: TelemetryDataType = 'number'
  let prevText: string | null = null
  let hi = 0
  let lo = 0
  let leading = -1
  let trailing = 0
  for (let i = 0; i < count; i++) {
    if (i === 0) { ts = unzigzag(r.readUint(51)); id = unzigzag(r.readUint(51)) } else {
      delta += readDod(r)
      ts += delta
      idDelta += readDod(r)
      id += idDelta
    }
    if (r.readBit() === 1) {
      code = r.read(2)
      unit = readNullable()
      dataType =
        code === NUMBER
          ? 'number'
          : code === BOOLEAN
            ? 'boolean'
            : code === STRING
              ? 'string'
              : (readString() as TelemetryDataType)
    }
    let value: number | null = null
    let valueText: string | null = null
    if (code === NUMBER || code === BOOLEAN) {
      if (r.readBit() === 1) {
        if (r.readBit() === 1) { leading = r.read(5); trailing = 64 - leading - (r.read(6) + 1) }
        const len = 64 - leading - trailing
        let xh = len > 32 ? r.read(len - 32) : 0
        let xl = r.read(len > 32 ? 32 : len)
        if (trailing >= 32) {
          xh = (xl << (trailing - 32)) >>> 0
          xl = 0
        } else if (trailing > 0) {
          xh = ((xh << trailing) | (xl >>> (32 - trailing))) >>> 0
          xl = (xl << trailing) >>> 0
        }
        hi = (hi ^ xh) >>> 0
        lo = (lo ^ xl) >>> 0
      }
      s.setUint32(0, hi)
      s.setUint32(4, lo)
      value = s.getFloat64(0)
    } else if (code === STRING) {
      if (r.readBit() === 1) prevText = readString()
      valueText = prevText
    } else {
      if (r.readBit() === 1) { s.setUint32(0, r.read(32)); s.setUint32(4, r.read(32)); value = s.getFloat64(0) }
      valueText = readNullable()
    }
    if (visit({ id, ts, value, valueText, unit, dataType }) === false) return
  }
}

import type { TelemetryDataType } from '../../../entities/telemetry-data.js'
import { BitWriter } from './bits.js'
import { XorWriter } from './floats.js'
import { decimalsOf, scaled, writeDelta, writeDod, writeNegativeZero, zigzag } from './ints.js'
import { writeIntColumn } from './int-columns.js'
export { decodeChunk, forEachReading } from './decode.js'

/**
 * The chunk codec of one series (device, key), after Gorilla (Pelkonen et al., VLDB 2015) as Prometheus' TSDB
 * uses it: timestamps as delta-of-delta in variable-width buckets, numbers as the XOR with the previous number,
 * and a one-bit "unchanged" flag for the unit, the type and repeated texts. Readings are encoded in the order
 * given: a negative delta (a reading older than the previous one) is just another delta-of-delta, so a chunk
 * never needs sorting and decodes back in insertion order. Lossless: every double round-trips bit for bit
 * (-0, ±Infinity, subnormals, NaN with its payload), and so does any row telemetry_data can hold.
 * Version 2 adds, per chunk: numbers that are all exact decimals of at most 6 digits (a sensor's 12.6, 0.05
 * steps, a counter; -0 too, escaped) are stored as the deltas of the scaled integers; one header for a chunk whose
 * readings all share type and unit; one bit when both the timestamp's and the id's delta-of-delta are zero.
 * Version 3, for a chunk of numbers (or booleans) of one unit that are all exact decimals (the usual sensor
 * series): the header, then three columns in int-columns.ts's block Rice code: timestamps, ids, scaled values.
 * Version 4, what such a chunk is written as now: version 3 with each block's Rice parameter named relative to the
 * block before's (int-columns.ts).
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

export const VERSION = 2
/** The columns chunk: version 3 named each block's k in 6 bits, version 4 (written now) relative to the last. */
export const COLUMNS_FIXED_K = 3
export const COLUMNS = 4
/** Timestamps are integers in (-2^50, 2^50) ms (year ±37,000): deltas and delta-of-deltas stay exact doubles. */
export const MAX_ABS_TS = 2 ** 50
const MAX_TEXT_BYTES = 0xffff
/** Header flags (byte 5): the low 3 bits are the decimals, XOR_FLOATS when the numbers are not decimals. */
export const XOR_FLOATS = 7
export const UNIFORM = 8

// Type codes: the three shapes ingest writes, and a general one for any other row.
export const NUMBER = 0
export const BOOLEAN = 1
export const STRING = 2
export const GENERAL = 3

function typeCode (r: ChunkReading): number {
  if (r.valueText === null && r.value !== null) {
    if (r.dataType === 'number') return NUMBER
    if (r.dataType === 'boolean') return BOOLEAN
  } else if (r.dataType === 'string' && r.value === null && r.valueText !== null) return STRING
  return GENERAL
}

/** Appends readings of one series to a chunk; `bytes()` encodes them (the codec picks its modes per chunk). */
export class ChunkEncoder {
  private readonly rs: ChunkReading[] = []
  private w = new BitWriter()
  private readonly scratch = new DataView(new ArrayBuffer(8))
  private readonly text = new TextEncoder()
  private prevText: string | null = null
  private xor = new XorWriter()
  minTs = Infinity
  maxTs = -Infinity

  get count (): number { return this.rs.length }

  append (r: ChunkReading): void {
    const ts = r.ts
    if (!Number.isInteger(ts) || Math.abs(ts) >= MAX_ABS_TS) throw new RangeError(`chunk timestamp out of range: ${ts}`)
    if (!Number.isInteger(r.id) || Math.abs(r.id) >= MAX_ABS_TS) throw new RangeError(`chunk id out of range: ${r.id}`)
    // A UTF-8 string is at most 3 bytes a UTF-16 unit: only a long one is encoded to be measured.
    const long = MAX_TEXT_BYTES / 3
    if ((r.valueText?.length ?? 0) > long || (r.unit?.length ?? 0) > long || r.dataType.length > long) {
      for (const text of [r.valueText, r.unit, r.dataType]) if (text !== null) this.checkText(text)
    }
    this.rs.push(r)
    if (ts < this.minTs) this.minTs = ts
    if (ts > this.maxTs) this.maxTs = ts
  }

  /** The chunk: a version byte, the reading count (32 bits), the flags byte, then the readings' bit stream. */
  bytes (): Uint8Array {
    const rs = this.rs
    const codes = rs.map(typeCode)
    const numbers = rs.filter((_, i) => codes[i] <= BOOLEAN).map(r => r.value as number)
    const d = decimalsOf(numbers, true)
    const uniform = rs.every((r, i) => codes[i] === codes[0] && r.unit === rs[0].unit && r.dataType === rs[0].dataType)
    this.w = new BitWriter(rs.length + 16)
    this.prevText = null
    this.xor = new XorWriter()
    if (uniform && rs.length > 0) this.writeMeta(codes[0], rs[0])
    if (uniform && rs.length > 0 && codes[0] <= BOOLEAN && d >= 0 && !numbers.some(v => Object.is(v, -0))) {
      return this.columns(d)
    }
    let [prevTs, prevDelta, prevId, prevIdDelta, prevCode, prevM] = [0, 0, 0, 0, -1, 0]
    let prev: ChunkReading | undefined
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]
      const code = codes[i]
      if (i === 0) {
        this.w.writeUint(zigzag(r.ts), 51)
        this.w.writeUint(zigzag(r.id), 51)
      } else {
        const [delta, idDelta] = [r.ts - prevTs, r.id - prevId]
        if (delta === prevDelta && idDelta === prevIdDelta) this.w.write(0, 1)
        else {
          this.w.write(1, 1)
          writeDod(this.w, delta - prevDelta)
          writeDod(this.w, idDelta - prevIdDelta)
        }
        prevDelta = delta
        prevIdDelta = idDelta
      }
      prevTs = r.ts
      prevId = r.id
      if (!uniform) {
        const same = prev !== undefined && code === prevCode && r.unit === prev.unit
        if (same && (code !== GENERAL || r.dataType === prev?.dataType)) {
          this.w.write(0, 1)
        } else {
          this.w.write(1, 1)
          this.writeMeta(code, r)
        }
      }
      prevCode = code
      prev = r
      if (code <= BOOLEAN) {
        if (d < 0) this.xor.write(this.w, r.value as number)
        else if (Object.is(r.value, -0)) {
          writeNegativeZero(this.w)
          prevM = 0
        } else {
          const m = scaled(r.value as number, d)
          writeDelta(this.w, m - prevM)
          prevM = m
        }
      } else if (code === STRING) this.writeText(r.valueText as string)
      else this.writeGeneral(r)
    }
    return this.frame(VERSION, (d < 0 ? XOR_FLOATS : d) | (uniform ? UNIFORM : 0))
  }

  /** Version 4: after the meta, the timestamps, ids and scaled values as columns. */
  private columns (d: number): Uint8Array {
    const rs = this.rs
    writeIntColumn(this.w, rs.map(r => r.ts), 'relative')
    writeIntColumn(this.w, rs.map(r => r.id), 'relative')
    writeIntColumn(this.w, rs.map(r => scaled(r.value as number, d)), 'relative')
    return this.frame(COLUMNS, d | UNIFORM)
  }

  private frame (version: number, flags: number): Uint8Array {
    const body = this.w.bytes()
    const out = new Uint8Array(6 + body.length)
    out[0] = version
    new DataView(out.buffer).setUint32(1, this.rs.length)
    out[5] = flags
    out.set(body, 6)
    return out
  }

  private writeMeta (code: number, r: ChunkReading): void {
    this.w.write(code, 2)
    this.writeNullableString(r.unit)
    if (code === GENERAL) this.writeString(r.dataType)
  }

  private writeGeneral (r: ChunkReading): void {
    this.w.write(r.value === null ? 0 : 1, 1)
    if (r.value !== null) {
      this.scratch.setFloat64(0, r.value)
      this.w.write(this.scratch.getUint32(0), 32)
      this.w.write(this.scratch.getUint32(4), 32)
    }
    this.writeNullableString(r.valueText)
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

  private checkText (s: string): void {
    if (this.text.encode(s).length > MAX_TEXT_BYTES) throw new RangeError('chunk text longer than 65,535 bytes')
  }

  private writeString (s: string): void {
    const bytes = this.text.encode(s)
    if (bytes.length > MAX_TEXT_BYTES) throw new RangeError('chunk text longer than 65,535 bytes')
    this.w.write(bytes.length, 16)
    for (const b of bytes) this.w.write(b, 8)
  }
}

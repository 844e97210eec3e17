import type { TelemetryDataType } from '../../../entities/telemetry-data.js'
import { BitReader } from './bits.js'
import { XorReader } from './floats.js'
import type { ChunkReading } from './codec.js'
import { NEGATIVE_ZERO_MARK, POW10, readDelta, readDod, unzigzag } from './ints.js'
import { readIntColumn } from './int-columns.js'

// The chunk decoder, for the four versions: 1 (XOR floats, a meta bit and two delta-of-deltas per reading), 2,
// 3 and 4 (see codec.ts). Constants repeated from codec.ts would be a cycle at load time: they are the format's.
const NUMBER = 0
const BOOLEAN = 1
const STRING = 2
const XOR_FLOATS = 7
const UNIFORM = 8
const TYPES: Array<TelemetryDataType | undefined> = ['number', 'boolean', 'string']

/** Decodes a whole chunk, in the order its readings were appended. */
export function decodeChunk (bytes: Uint8Array): ChunkReading[] {
  const out: ChunkReading[] = []
  forEachReading(bytes, r => { out.push(r) })
  return out
}

/** Calls `visit` with each reading of a chunk in order; stops early when `visit` answers false. */
export function forEachReading (bytes: Uint8Array, visit: (r: ChunkReading) => boolean | undefined | void): void {
  const version = bytes[0]
  const header = version === 1 ? 5 : version >= 2 && version <= 4 ? 6 : Infinity
  if (bytes.length < header) throw new RangeError('not a telemetry chunk')
  const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  const flags = version === 1 ? XOR_FLOATS : bytes[5]
  const decimals = flags & 7
  const uniform = (flags & UNIFORM) !== 0
  const r = new BitReader(bytes.subarray(header))
  const s = new DataView(new ArrayBuffer(8))
  const text = new TextDecoder()
  const readString = (): string => {
    const n = r.read(16)
    const b = new Uint8Array(n)
    for (let i = 0; i < n; i++) b[i] = r.read(8)
    return text.decode(b)
  }
  const readNullable = (): string | null => r.readBit() === 0 ? null : readString()
  let [ts, delta, id, idDelta, m] = [0, 0, 0, 0, 0]
  let code = -1
  let unit: string | null = null
  let dataType: TelemetryDataType = 'number'
  const readMeta = (): void => {
    code = r.read(2)
    unit = readNullable()
    dataType = TYPES[code] ?? readString() as TelemetryDataType
  }
  if (uniform && count > 0) readMeta()
  if (version === 3 || version === 4) {
    const code = version === 3 ? 'fixed' : 'relative'
    const [ts, id, m] = [readIntColumn(r, count, code), readIntColumn(r, count, code), readIntColumn(r, count, code)]
    const p = POW10[decimals]
    for (let i = 0; i < count; i++) {
      if (visit({ id: id[i], ts: ts[i], value: m[i] / p, valueText: null, unit, dataType }) === false) return
    }
    return
  }
  let prevText: string | null = null
  const xor = new XorReader()
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      ts = unzigzag(r.readUint(51)); id = unzigzag(r.readUint(51))
    } else if (version === 1 || r.readBit() === 1) {
      delta += readDod(r)
      idDelta += readDod(r)
      ts += delta
      id += idDelta
    } else { ts += delta; id += idDelta }
    if (!uniform && r.readBit() === 1) readMeta()
    let value: number | null = null
    let valueText: string | null = null
    if ((code === NUMBER || code === BOOLEAN) && decimals !== XOR_FLOATS) {
      const d = readDelta(r)
      if (d === NEGATIVE_ZERO_MARK) { m = 0; value = -0 } else { m += d; value = m / POW10[decimals] }
    } else if (code === NUMBER || code === BOOLEAN) {
      value = xor.read(r)
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

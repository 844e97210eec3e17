import { BitReader } from './bits.js'
import { XorReader } from './floats.js'
import { POW10, readDelta, readDod, unzigzag } from './ints.js'
import type { MinuteAggregate } from './aggregates.js'

// Version 1 of the aggregate chunk (first byte 0x41), read only: day chunks written before version 2 still decode.
// Columns: minute starts as delta-of-delta; count, min, max and last each as decimal-scaled deltas or
// delta-of-deltas (a flag) or XOR floats; the average as the minute's decimal sum, or as XOR floats.

const XOR_FLOATS = 7

export function decodeMinutesV1 (bytes: Uint8Array): MinuteAggregate[] {
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  const r = new BitReader(bytes.subarray(5))
  const t: number[] = []
  let [prevT, delta] = [0, 0]
  for (let i = 0; i < n; i++) {
    if (i === 0) prevT = unzigzag(r.readUint(51))
    else { delta += readDod(r); prevT += delta }
    t.push(prevT)
  }
  const [count, min, max, last] = [readColumn(r, n), readColumn(r, n), readColumn(r, n), readColumn(r, n)]
  let avg: number[]
  if (r.readBit() === 0) avg = readColumn(r, n)
  else {
    const p = POW10[r.read(3)]
    avg = readInts(r, n).map((m, i) => m / p / count[i])
  }
  return t.map((t, i) => ({ t, count: count[i], min: min[i], max: max[i], avg: avg[i], last: last[i] }))
}

function readColumn (r: BitReader, n: number): number[] {
  const d = r.read(3)
  if (d !== XOR_FLOATS) return readInts(r, n).map(m => m / POW10[d])
  const x = new XorReader()
  return Array.from({ length: n }, () => x.read(r))
}

function readInts (r: BitReader, n: number): number[] {
  const dod = r.readBit() === 1
  const out: number[] = []
  let [m, delta] = [0, 0]
  for (let i = 0; i < n; i++) {
    delta = dod ? delta + readDod(r) : readDelta(r)
    m += delta
    out.push(m)
  }
  return out
}

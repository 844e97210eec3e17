import t from 'tap'
import { decodeSignal, extractBits, parseHexData } from '../../src/services/can-decoder.js'

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)
const layout = (
  startBit: number,
  length: number,
  byteOrder: 'little' | 'big',
  extra: { isSigned?: boolean, scale?: number, offset?: number } = {}
) => ({ startBit, length, byteOrder, isSigned: false, scale: 1, offset: 0, ...extra })

// Every expected value below was worked out by hand from the bit layout in the comment.
t.test('little endian (Intel, @1)', async t => {
  // 16 bits from bit 0: byte0 is the low byte → 0x1234.
  t.equal(decodeSignal(bytes(0x34, 0x12), layout(0, 16, 'little')), 0x1234)
  // 8 bits from bit 4: high nibble of byte0 (0xA) is the low nibble, low nibble of byte1 (0xB) the high → 0xBA.
  t.equal(decodeSignal(bytes(0xA0, 0x0B), layout(4, 8, 'little')), 0xBA)
  // 1 bit at bit 13: byte1 bit 5.
  t.equal(decodeSignal(bytes(0x00, 0x20), layout(13, 1, 'little')), 1)
  t.equal(decodeSignal(bytes(0xFF, 0xDF), layout(13, 1, 'little')), 0)
  // 3 bits from bit 6: byte0 bits 6-7 (=0b11) are the low bits, byte1 bit 0 (=1) the high bit → 0b111 = 7.
  t.equal(decodeSignal(bytes(0xC0, 0x01), layout(6, 3, 'little')), 7)
})

t.test('big endian (Motorola, @0), start bit = MSB in DBC numbering', async t => {
  // MSB at bit 7 of byte0, 16 bits: byte0 then byte1 → 0x1234.
  t.equal(decodeSignal(bytes(0x12, 0x34), layout(7, 16, 'big')), 0x1234)
  // MSB at bit 3 of byte0, 8 bits: byte0 bits 3..0 (0xA) then byte1 bits 7..4 (0xB) → 0xAB.
  t.equal(decodeSignal(bytes(0x0A, 0xB0), layout(3, 8, 'big')), 0xAB)
  // MSB at bit 15 (byte1 bit 7), 12 bits: byte1 (0x9C) then byte2 bits 7..4 (0xD) → 0x9CD.
  t.equal(decodeSignal(bytes(0x00, 0x9C, 0xD0), layout(15, 12, 'big')), 0x9CD)
})

t.test('signed, scale and offset', async t => {
  t.equal(decodeSignal(bytes(0xFF), layout(0, 8, 'little', { isSigned: true })), -1)
  // 12-bit 0x800 is the most negative value.
  t.equal(decodeSignal(bytes(0x00, 0x08), layout(0, 12, 'little', { isSigned: true })), -2048)
  t.equal(decodeSignal(bytes(0xFF, 0x07), layout(0, 12, 'little', { isSigned: true })), 2047)
  // Motorola signed 16-bit 0xFF38 = -200, scale 0.1 → -20.
  t.equal(decodeSignal(bytes(0xFF, 0x38), layout(7, 16, 'big', { isSigned: true, scale: 0.1 })), -20)
  // Engine speed 0.25 rpm/bit: raw 0x1F40 = 8000 → 2000 rpm.
  t.equal(decodeSignal(bytes(0x40, 0x1F), layout(0, 16, 'little', { scale: 0.25 })), 2000)
  // Coolant temperature, offset -40: raw 100 → 60 °C.
  t.equal(decodeSignal(bytes(100), layout(0, 8, 'little', { offset: -40 })), 60)
  // All 64 bits.
  t.equal(extractBits(bytes(1, 2, 3, 4, 5, 6, 7, 0x80), 0, 64, 'little'), 0x8007060504030201n)
  t.equal(
    decodeSignal(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), layout(0, 64, 'little', { isSigned: true })),
    -1
  )
})

t.test('frames too short or bad layouts decode to nothing; hex parsing', async t => {
  t.equal(decodeSignal(bytes(0x01), layout(0, 16, 'little')), undefined)
  t.equal(decodeSignal(bytes(0x01), layout(7, 16, 'big')), undefined)
  t.equal(extractBits(bytes(1), 0, 65, 'little'), undefined)
  t.same(parseHexData('1a 2B:3c'), bytes(0x1a, 0x2b, 0x3c))
  t.equal(parseHexData('abc'), undefined)
  t.equal(parseHexData('zz'), undefined)
  t.equal(parseHexData('00'.repeat(65)), undefined)
})

import { GatewayError } from '../errors.js'
import type { NewCanSignal } from '../persistence/repositories/can-signals.js'

export interface DbcMessage { id: number, name: string, dlc: number, signals: NewCanSignal[] }
export interface DbcFile { messages: DbcMessage[], skipped: Array<{ message: string, signal: string, reason: string }> }

// BO_ <id> <name>: <dlc> <transmitter>
const BO = /^BO_\s+(\d+)\s+(\w+)\s*:\s*(\d+)\s*(\w+)?\s*$/
// SG_ <name> [M|mN]: <start>|<length>@<0|1><+|-> (<scale>,<offset>) [<min>|<max>] "<unit>" <receivers>
const SG = new RegExp(
  /^SG_\s+(\w+)\s*(M|m\d+M?)?\s*:\s*(\d+)\s*\|\s*(\d+)\s*@\s*([01])\s*([+-])\s*/.source +
  /\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)\s*\[\s*([^|\s]*)\s*\|\s*([^\]\s]*)\s*\]\s*"([^"]*)"/.source
)
// Bit 31 of a DBC message id marks a 29-bit (extended) identifier.
const EXTENDED_FLAG = 0x80000000
const NUM = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/

function num (text: string, line: number, what: string): number {
  if (!NUM.test(text)) {
    throw new GatewayError('GW_ERR_CAN_DBC_INVALID', `line ${line}: ${what} is not a number: ${text}`)
  }
  return Number(text)
}

/**
 * The subset of Vector's DBC format the gateway needs: messages (BO_) and their signals (SG_); everything else
 * (nodes, comments, value tables, attributes) is ignored. Multiplexed signals are skipped and reported (the
 * decoder has no multiplexer support). A malformed BO_/SG_ line is an error naming its line.
 */
export function parseDbc (text: string): DbcFile {
  const messages: DbcMessage[] = []
  const skipped: DbcFile['skipped'] = []
  let current: DbcMessage | undefined
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    const n = i + 1
    if (line.startsWith('BO_ ')) {
      const m = BO.exec(line)
      if (m === null) throw new GatewayError('GW_ERR_CAN_DBC_INVALID', `line ${n}: malformed BO_: ${line}`)
      const raw = Number(m[1])
      current = { id: raw >= EXTENDED_FLAG ? raw - EXTENDED_FLAG : raw, name: m[2], dlc: Number(m[3]), signals: [] }
      messages.push(current)
    } else if (line.startsWith('SG_ ')) {
      const m = SG.exec(line)
      if (m === null) throw new GatewayError('GW_ERR_CAN_DBC_INVALID', `line ${n}: malformed SG_: ${line}`)
      if (current === undefined) throw new GatewayError('GW_ERR_CAN_DBC_INVALID', `line ${n}: SG_ outside a BO_`)
      const [, name, mux, start, length, order, sign, scale, offset, min, max, unit] = m
      if (mux !== undefined && mux !== 'M') {
        skipped.push({ message: current.name, signal: name, reason: 'multiplexed' })
        continue
      }
      const lo = min === '' ? 0 : num(min, n, 'min')
      const hi = max === '' ? 0 : num(max, n, 'max')
      current.signals.push({
        name,
        canId: current.id,
        startBit: Number(start),
        length: Number(length),
        byteOrder: order === '1' ? 'little' : 'big',
        isSigned: sign === '-',
        scale: num(scale, n, 'scale'),
        offset: num(offset, n, 'offset'),
        unit: unit === '' ? null : unit.slice(0, 16),
        // [0|0] is the DBC way of saying "no range".
        min: lo === 0 && hi === 0 ? null : lo,
        max: lo === 0 && hi === 0 ? null : hi
      })
    } else if (line === '') {
      // A blank line ends a message's signal list.
      current = undefined
    }
  }
  return { messages, skipped }
}

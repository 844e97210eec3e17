import type { Services } from '../../services/index.js'
import type { CanSignal } from '../../../entities/can-signal.js'
import type { TelemetryRow } from '../../persistence/repositories/telemetry.js'
import { decodeSignal, parseHexData } from '../../services/can-decoder.js'
import type { InboundMessage } from '../../broker/pipeline.js'
import { parseTs } from './telemetry.js'

// Signals imported with `autocore-gateway can import` (another process) are picked up within this time.
const SIGNALS_TTL_MS = 30_000

/**
 * `autocore/can/{uuid}/data` (SPEC §3): decodes each frame with the enabled can_signals of its id (those bound to
 * this bridge or to none) into telemetry readings, fed to the same buffer as telemetry. A value outside the
 * signal's [min, max] (when the DBC gives a range) is not stored; frames of unknown ids are ignored. The payload
 * guard has checked the canData schema (a `frames` array of `{id, data}`, `id` an integer within 29 bits, `data`
 * whole hex bytes).
 */
export function canHandler (ctx: Services): (msg: InboundMessage<'canData'>) => Promise<void> {
  const repo = ctx.repos.canSignals
  let index: Map<number, CanSignal[]> | undefined
  let loadedAt = -Infinity

  async function signals (): Promise<Map<number, CanSignal[]>> {
    if (index !== undefined && ctx.clock.now() - loadedAt < SIGNALS_TTL_MS) return index
    const next = new Map<number, CanSignal[]>()
    for (const s of await repo.enabled()) next.set(s.canId, [...(next.get(s.canId) ?? []), s])
    index = next
    loadedAt = ctx.clock.now()
    return index
  }

  return async msg => {
    const uuid = msg.params.uuid
    const deviceId = await ctx.telemetry.repo.deviceId(uuid)
    if (deviceId === undefined) return ctx.telemetry.refused('unknown device', uuid)
    const payload = msg.body
    const ts = payload.ts === undefined ? ctx.clock.now() : parseTs(payload.ts) ?? ctx.clock.now()
    const bySignal = await signals()
    const rows: TelemetryRow[] = []
    for (const frame of payload.frames) {
      const data = parseHexData(frame.data)
      if (data === undefined) continue
      for (const s of bySignal.get(frame.id) ?? []) {
        if (s.deviceId !== null && s.deviceId !== deviceId) continue
        const value = decodeSignal(data, s)
        if (value === undefined) continue
        if (s.min !== null && s.max !== null && s.min < s.max && (value < s.min || value > s.max)) continue
        const key = s.telemetryKey ?? s.name
        rows.push({ deviceId, key, value, valueText: null, unit: s.unit, dataType: 'number', ts })
      }
    }
    if (rows.length > 0) await ctx.telemetry.buffer.append(rows, false)
  }
}

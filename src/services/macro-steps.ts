import type { MacroAction } from '../../entities/index.js'
import type { Services } from './index.js'
import { gatewayOnlyFilters, covers, type RelayAction } from '../protocol/index.js'
import type { MacrosRepository } from '../persistence/repositories/macros.js'
import type { CommandOutcome, CommandService } from './commands.js'
import type { RelayService } from './relays.js'

/** What one step needs; the runner (macros.ts) owns ordering, cancellation and progress. */
export interface StepDeps {
  ctx: Services
  relays: RelayService
  commands: CommandService
  repo: MacrosRepository
  username?: string
  /** Resolves after `ms` on the injected clock, or early when the run is cancelled. */
  sleep: (ms: number) => Promise<void>
}

const str = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined
const num = (v: unknown): number | undefined => typeof v === 'number' && Number.isFinite(v) ? v : undefined

function mustAck (o: CommandOutcome, what: string): void {
  if (o.status !== 'acked') throw new Error(`${what}: ${o.status}${o.message !== undefined ? ` (${o.message})` : ''}`)
}

/** A condition on current state: `{relay: <channel id>, is: "on"|"off"}` or `{telemetry: {uuid, key}, op, value}`. */
export async function conditionHolds (cond: Record<string, unknown> | null, deps: StepDeps): Promise<boolean> {
  if (cond === null) return true
  if (cond.relay !== undefined) {
    const ch = await deps.relays.channelById(Number(cond.relay))
    const wantOn = cond.is === 'on' || cond.is === true
    return ch !== undefined && ch.currentState === wantOn
  }
  const tel = cond.telemetry as { uuid?: unknown, key?: unknown } | undefined
  if (tel !== undefined) {
    const uuid = str(tel.uuid)
    const key = str(tel.key)
    const want = num(cond.value)
    if (uuid === undefined || key === undefined || want === undefined) return false
    const v = await deps.repo.latestTelemetry(uuid, key)
    if (v === undefined) return false
    switch (cond.op) {
      case '<': return v < want
      case '<=': return v <= want
      case '>': return v > want
      case '>=': return v >= want
      case '==': return v === want
      case '!=': return v !== want
      default: return false
    }
  }
  return false
}

/**
 * Runs one action; throws when it cannot be done (the run then fails with that message). The action has passed
 * assertMacroAction (macro-schema.ts), so its params have the shape of its type.
 */
export async function performStep (action: MacroAction, deps: StepDeps): Promise<void> {
  const p = action.params
  switch (action.actionType) {
    case 'delay':
      return await deps.sleep(num(p.ms) ?? num(p.delay_ms) ?? 0)
    case 'relay': {
      const {
        device_uuid: deviceUuid,
        channel,
        action: act,
        duration_ms: durationMs
      } = p as { device_uuid: string, channel: number, action: RelayAction, duration_ms?: number }
      const r = await deps.relays.setChannel({
        deviceUuid,
        channel,
        action: act,
        durationMs,
        source: 'macro',
        user: deps.username
      })
      return mustAck(await r.outcome, `relay ${deviceUuid}/${channel}`)
    }
    case 'command': {
      const {
        device_uuid: deviceUuid,
        command,
        params
      } = p as { device_uuid: string, command: string, params?: Record<string, unknown> }
      const sent = await deps.commands.send({
        deviceUuid,
        command,
        params: params ?? {},
        source: 'macro',
        username: deps.username
      })
      return mustAck(await sent.outcome, `command ${command} to ${deviceUuid}`)
    }
    case 'mqtt_publish': {
      const topic = String(p.topic)
      if (!mayPublish(deps.ctx.config.macros.publishTopics, topic)) {
        throw new Error(`topic not allowed for mqtt_publish: ${topic}`)
      }
      return await deps.ctx.broker.publish(topic, p.payload ?? {}, { qos: 1, retain: p.retain === true })
    }
    default:
      throw new Error(`unknown action type ${String(action.actionType)}`)
  }
}

export function mayPublish (allowed: readonly string[], topic: string): boolean {
  if (topic.startsWith('$') || topic.includes('+') || topic.includes('#')) return false
  if (gatewayOnlyFilters.some(f => covers(f, topic))) return false
  return allowed.some(f => covers(f, topic))
}

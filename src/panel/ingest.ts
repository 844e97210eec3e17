import { parseTopic } from '../protocol/index.js'
import {
  channelKey,
  type DeviceItem,
  type EmergencyState,
  type EventItem,
  type Level,
  type MacroRun,
  type PanelState,
  type Point,
  type Reading
} from './model.js'

/** How far back the telemetry charts reach, and how many events the feed keeps. */
export const CHART_SPAN_MS = 3_600_000
export const MAX_EVENTS = 300
const MAX_POINTS = 720

export type Patch = Partial<PanelState>

function json (payload: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(payload) as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : null
  } catch {
    return null
  }
}

export function placeholderDevice (uuid: string): DeviceItem {
  return {
    uuid,
    name: uuid,
    type: '',
    status: 'offline',
    enabled: true,
    firmware: null,
    ipAddress: null,
    macAddress: null,
    capabilities: [],
    lastSeen: null
  }
}

function touchDevice (s: PanelState, uuid: string, change: Partial<DeviceItem>): Patch {
  const d = s.devices[uuid] ?? placeholderDevice(uuid)
  return { devices: { ...s.devices, [uuid]: { ...d, ...change } } }
}

/** `{key: v}` or `{key: {value, unit}}` (SPEC §3) as [key, value, unit]; `ts` is the device's clock, not a reading. */
export function readingsOf (body: Record<string, unknown>): Array<[string, number | boolean | string, string | null]> {
  const out: Array<[string, number | boolean | string, string | null]> = []
  for (const [k, raw] of Object.entries(body)) {
    if (k === 'ts') continue
    const v = typeof raw === 'object' && raw !== null ? (raw as { value?: unknown }).value : raw
    const unit =
      typeof raw === 'object' && raw !== null && typeof (raw as { unit?: unknown }).unit === 'string'
        ? (raw as { unit: string }).unit
        : null
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out.push([k, v, unit])
  }
  return out
}

export function numeric (v: number | boolean | string): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v === 'boolean') return v ? 1 : 0
  return null
}

export function trimPoints (points: Point[], now: number): Point[] {
  const from = now - CHART_SPAN_MS
  const kept = points.filter(p => p.t >= from)
  return kept.length > MAX_POINTS ? kept.slice(kept.length - MAX_POINTS) : kept
}

function telemetry (s: PanelState, uuid: string, body: Record<string, unknown>, now: number): Patch {
  const current = s.telemetry[uuid] ?? {}
  const next: Record<string, Reading> = { ...current }
  for (const [key, value, unit] of readingsOf(body)) {
    const prev = current[key]
    const n = numeric(value)
    const points = n === null ? (prev?.points ?? []) : trimPoints([...(prev?.points ?? []), { t: now, v: n }], now)
    next[key] = { value, unit: unit ?? prev?.unit ?? null, ts: now, points, loaded: prev?.loaded ?? false }
  }
  return {
    telemetry: { ...s.telemetry, [uuid]: next },
    telemetryDevice: s.telemetryDevice ?? uuid,
    ...touchDevice(s, uuid, { status: 'online', lastSeen: new Date(now).toISOString() })
  }
}

/** A board's confirmed state: pending requests it satisfies are done (a pulse is done at any report of its channel). */
function relayState (s: PanelState, uuid: string, body: Record<string, unknown>): Patch {
  const channels = body.channels
  if (typeof channels !== 'object' || channels === null) return {}
  const states: Record<string, boolean> = { ...(s.relayStates[uuid] ?? {}) }
  const pending = { ...s.pending }
  for (const [ch, on] of Object.entries(channels as Record<string, unknown>)) {
    if (typeof on !== 'boolean') continue
    states[ch] = on
    const p = pending[channelKey(uuid, ch)]
    if (p !== undefined && (p.want === on || p.want === 'pulse')) delete pending[channelKey(uuid, ch)]
  }
  return { relayStates: { ...s.relayStates, [uuid]: states }, pending }
}

function emergency (body: Record<string, unknown>): EmergencyState {
  const str = (v: unknown): string | null => typeof v === 'string' ? v : null
  return { active: body.active === true, reason: str(body.reason), source: str(body.source), since: str(body.since) }
}

/** `macro_progress`: the event's action is the run's state (started, step, completed, failed, cancelled). */
function macroProgress (s: PanelState, status: string, p: Record<string, unknown>): Patch {
  const id = String(p.macro_id)
  const prev: MacroRun = s.macroRuns[id] ?? { runId: null, status: 'started', step: 0, steps: 0, message: null }
  const run: MacroRun =
    status === 'started'
      ? {
          runId: typeof p.run_id === 'number' ? p.run_id : null,
          status: 'running',
          step: 0,
          steps: Number(p.steps ?? 0),
          message: null
        }
      : status === 'step'
        ? { ...prev, status: 'running', step: Number(p.step ?? prev.step) }
        : { ...prev, status, message: typeof p.message === 'string' ? p.message : null }
  return { macroRuns: { ...s.macroRuns, [id]: run } }
}

const LEVEL_SET = new Set<string>(['info', 'warning', 'error', 'critical'])

export function toEvent (body: Record<string, unknown>): EventItem | null {
  if (typeof body.id !== 'number' || typeof body.type !== 'string' || !LEVEL_SET.has(String(body.level))) return null
  const str = (v: unknown): string | null => typeof v === 'string' ? v : null
  return {
    id: body.id,
    ts: String(body.ts),
    level: body.level as Level,
    type: body.type,
    source: String(body.source ?? ''),
    action: str(body.action),
    target: str(body.target),
    username: str(body.username),
    payload: typeof body.payload === 'object' && body.payload !== null ? body.payload as Record<string, unknown> : null
  }
}

/** Newest first, no duplicates (an event fetched over HTTP may also arrive live). */
export function mergeEvents (current: EventItem[], more: EventItem[]): EventItem[] {
  const byId = new Map<number, EventItem>()
  for (const e of [...current, ...more]) byId.set(e.id, e)
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, MAX_EVENTS)
}

/**
 * What an event changes besides the feed: refusals end a pending request, progress moves a macro, presence a device.
 */
function eventEffects (s: PanelState, e: EventItem): Patch {
  const mine = e.username !== null && e.username === s.session?.username
  switch (e.type) {
    case 'macro_progress':
      return e.payload === null || e.action === null ? {} : macroProgress(s, e.action, e.payload)
    case 'relay_refused': {
      if (e.target === null || s.pending[e.target] === undefined) return {}
      const message = typeof e.payload?.message === 'string' ? e.payload.message : 'refused'
      return { pending: { ...s.pending, [e.target]: { ...s.pending[e.target], error: message } } }
    }
    case 'device_connected':
    case 'device_offline':
      if (e.target === null || s.devices[e.target] === undefined) return {}
      return touchDevice(s, e.target, { status: e.type === 'device_connected' ? 'online' : 'offline', lastSeen: e.ts })
    case 'macro_refused':
      return mine ? toast(s, `Macro refused: ${String(e.payload?.message ?? e.payload?.code ?? '')}`, 'warning') : {}
    default:
      return {}
  }
}

export function toast (s: PanelState, text: string, level: Level): Patch {
  const id = (s.toasts.at(-1)?.id ?? 0) + 1
  return { toasts: [...s.toasts.slice(-3), { id, text, level }] }
}

/**
 * One MQTT message into a patch of the store. `now` is the gateway's time. Retained messages (the truth at
 * subscribe time) update state but are not "seen now": they do not move a device's last-seen time.
 */
export function ingest (s: PanelState, topic: string, payload: string, retained: boolean, now: number): Patch {
  const parsed = parseTopic(topic)
  if (parsed === undefined) return {}
  const body = json(payload)
  const uuid = parsed.params.uuid
  switch (parsed.family) {
    case 'deviceStatus': {
      if (body === null || (body.status !== 'online' && body.status !== 'offline')) return {}
      return touchDevice(s, uuid, {
        status: body.status,
        ...(retained ? {} : { lastSeen: new Date(now).toISOString() })
      })
    }
    case 'deviceAnnounce': {
      if (body === null) return {}
      const str = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined
      const d = s.devices[uuid]
      return touchDevice(s, uuid, {
        type: str(body.type) ?? d?.type ?? '',
        firmware: str(body.firmware) ?? d?.firmware ?? null,
        lastSeen: new Date(now).toISOString()
      })
    }
    case 'deviceTelemetry':
    case 'telemetryData':
      return body === null ? {} : telemetry(s, uuid, body, now)
    case 'relayState':
      return body === null ? {} : relayState(s, uuid, body)
    case 'emergencyState':
      return body === null ? {} : { emergency: emergency(body) }
    case 'events': {
      const e = body === null ? null : toEvent(body)
      if (e === null) return {}
      const patch = eventEffects(s, e)
      return { ...patch, events: mergeEvents(s.events, [e]) }
    }
    default:
      return {}
  }
}

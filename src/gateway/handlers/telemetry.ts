import type { PublishPacket } from 'aedes'
import type { PublishInterceptor, PublishVerdict } from '../../broker/hooks.js'
import type { TelemetryRow } from '../../persistence/repositories/telemetry.js'
import type { TelemetryStore } from '../../services/telemetry.js'
import { telemetryTopicUuid } from '../topics.js'

const MAX_KEY = 64
const MAX_UNIT = 16
const MAX_TEXT = 255
// Before 2001-09-09 in ms, so such a number is epoch seconds (an ESP32's time()); converted to ms.
const SECONDS_BELOW = 1e12

/** Device time of a payload: epoch ms, epoch s, or an ISO 8601 string; undefined when it is none of them. */
export function parseTs (ts: unknown): number | undefined {
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts) || ts <= 0) return undefined
    return Math.round(ts < SECONDS_BELOW ? ts * 1000 : ts)
  }
  if (typeof ts === 'string') {
    const ms = Date.parse(ts)
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}

function row (deviceId: number, key: string, v: unknown, unit: string | null, ts: number): TelemetryRow | string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return `${key}: not a finite number`
    return { deviceId, key, value: v, valueText: null, unit, dataType: 'number', ts }
  }
  if (typeof v === 'boolean') return { deviceId, key, value: v ? 1 : 0, valueText: null, unit, dataType: 'boolean', ts }
  if (typeof v === 'string') {
    if (v.length > MAX_TEXT) return `${key}: text longer than ${MAX_TEXT}`
    return { deviceId, key, value: null, valueText: v, unit, dataType: 'string', ts }
  }
  return `${key}: must be a number, boolean, string or {value, unit?}`
}

/**
 * SPEC §3 telemetry payload → rows: `{key: number|boolean|string}` or `{key: {value, unit?}}`, with an optional
 * `ts` (device time; else `receivedAt`). Answers the rows, or the reason the payload is refused (as a string,
 * so the accepting path allocates nothing but the rows).
 */
export function parseTelemetry (payload: Buffer | string, deviceId: number, receivedAt: number, maxKeys: number): TelemetryRow[] | string {
  let body: unknown
  try {
    body = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'))
  } catch {
    return 'payload is not JSON'
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'payload must be a JSON object'
  const fields = body as Record<string, unknown>
  let ts = receivedAt
  if (fields.ts !== undefined) {
    const t = parseTs(fields.ts)
    if (t === undefined) return 'ts must be epoch ms, epoch s or an ISO 8601 string'
    ts = t
  }
  const rows: TelemetryRow[] = []
  for (const key in fields) {
    if (key === 'ts') continue
    if (key.length === 0 || key.length > MAX_KEY) return `key length must be 1..${MAX_KEY}`
    if (rows.length >= maxKeys) return `more than ${maxKeys} readings in one message`
    let v = fields[key]
    let unit: string | null = null
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const o = v as { value?: unknown, unit?: unknown }
      if (o.unit !== undefined) {
        if (typeof o.unit !== 'string' || o.unit.length > MAX_UNIT) return `${key}: unit must be a string of at most ${MAX_UNIT}`
        unit = o.unit
      }
      v = o.value
    }
    const r = row(deviceId, key, v, unit, ts)
    if (typeof r === 'string') return r
    rows.push(r)
  }
  if (rows.length === 0) return 'no readings in payload'
  return rows
}

/**
 * The publish-pipeline step for both telemetry topics of SPEC §3: parse, buffer, and for QoS 1 hold the PUBACK
 * until the reading's batch is committed. Other topics pass untouched. A payload that does not parse, or a
 * device the store does not know, is dropped (acknowledged, delivered to nobody, stored nowhere) and counted.
 */
export function telemetryInterceptor (store: TelemetryStore, now: () => number, maxKeys: number): PublishInterceptor {
  function ingest (uuid: string, deviceId: number | undefined, packet: PublishPacket): PublishVerdict | Promise<PublishVerdict> {
    if (deviceId === undefined) {
      store.refused('unknown device', uuid)
      return { drop: 'unknown device' }
    }
    const rows = parseTelemetry(packet.payload, deviceId, now(), maxKeys)
    if (typeof rows === 'string') {
      store.refused(rows, uuid)
      return { drop: rows }
    }
    return store.buffer.append(rows, packet.qos > 0) ?? 'deliver'
  }
  return (_principal, packet) => {
    const uuid = telemetryTopicUuid(packet.topic)
    if (uuid === undefined) return 'deliver'
    const id = store.repo.deviceId(uuid)
    return id instanceof Promise ? id.then(i => ingest(uuid, i, packet)) : ingest(uuid, id, packet)
  }
}

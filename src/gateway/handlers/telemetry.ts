import type { InboundMessage, PublishVerdict } from '../../broker/pipeline.js'
import type { TelemetryRow } from '../../persistence/repositories/telemetry.js'

const MAX_KEY = 64
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

/** One reading as the telemetry schema (protocol/schemas.ts) admits it. */
type Reading = number | boolean | string | { value: number | boolean | string, unit?: string }

/** The fields of a telemetry payload: readings by key, and the optional device time. */
export type TelemetryFields = Record<string, Reading | undefined> & { ts?: unknown }

// Every row is built by this one object literal, in one property order: all rows share one hidden class, which
// keeps the ingest and insert loops monomorphic (a spread per row made them dictionary objects).
function row (deviceId: number, key: string, reading: Reading, ts: number): TelemetryRow {
  let v: number | boolean | string
  let unit: string | null = null
  if (typeof reading === 'object') {
    v = reading.value
    unit = reading.unit ?? null
  } else {
    v = reading
  }
  if (typeof v === 'number') return { deviceId, key, value: v, valueText: null, unit, dataType: 'number', ts }
  if (typeof v === 'boolean') return { deviceId, key, value: v ? 1 : 0, valueText: null, unit, dataType: 'boolean', ts }
  return { deviceId, key, value: null, valueText: v, unit, dataType: 'string', ts }
}

/**
 * SPEC §3 telemetry payload (already parsed) → rows: `{key: number|boolean|string}` or `{key: {value, unit?}}`, with
 * an optional `ts` (device time; else `receivedAt`). The payload guard, earlier in the inbound steps, has already
 * checked it against the telemetry schema (protocol/schemas.ts: a JSON object, reading types, text and unit
 * lengths, finite numbers), so only what that schema cannot say is checked here: `ts` must be a real time, key
 * length, the configured reading count, at least one reading. Answers the rows, or the reason the payload is refused.
 */
export function telemetryRows (fields: TelemetryFields, deviceId: number, receivedAt: number, maxKeys: number):
TelemetryRow[] | string {
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
    rows.push(row(deviceId, key, fields[key] as Reading, ts))
  }
  if (rows.length === 0) return 'no readings in payload'
  return rows
}

/** What the ingest step needs of the telemetry store (services/telemetry.ts TelemetryStore). */
export interface TelemetrySink {
  readonly repo: { deviceId: (uuid: string) => number | undefined | Promise<number | undefined> }
  readonly buffer: { append: (rows: TelemetryRow[], durable: boolean) => Promise<PublishVerdict> | undefined }
  refused: (reason: string, deviceUuid: string) => void
}

/**
 * The inbound step for both telemetry topics of SPEC §3, before the PUBACK: rows from the validated body, buffered,
 * and for QoS 1 the PUBACK held until the reading's batch is committed. A payload refused by telemetryRows, or a
 * device the store does not know (deleted after it connected: the ACL lets a device publish only its own topics),
 * is dropped (acknowledged, delivered to nobody, stored nowhere) and counted.
 */
export function telemetryIngest (store: TelemetrySink, now: () => number, maxKeys: number):
(msg: InboundMessage<'deviceTelemetry' | 'telemetryData'>) => PublishVerdict | Promise<PublishVerdict> {
  type Message = InboundMessage<'deviceTelemetry' | 'telemetryData'>
  function ingest (uuid: string, deviceId: number | undefined, msg: Message): PublishVerdict | Promise<PublishVerdict> {
    if (deviceId === undefined) {
      store.refused('unknown device', uuid)
      return { drop: 'unknown device' }
    }
    const rows = telemetryRows(msg.body as TelemetryFields, deviceId, now(), maxKeys)
    if (typeof rows === 'string') {
      store.refused(rows, uuid)
      return { drop: rows }
    }
    return store.buffer.append(rows, msg.packet.qos > 0) ?? 'deliver'
  }
  return msg => {
    const uuid = msg.params.uuid
    const id = store.repo.deviceId(uuid)
    return id instanceof Promise ? id.then(i => ingest(uuid, i, msg)) : ingest(uuid, id, msg)
  }
}

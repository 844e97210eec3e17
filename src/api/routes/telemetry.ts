import type { Services } from '../../services/index.js'
import { GatewayError } from '../../errors.js'
import { route, type RouteSpec } from '../route-table.js'

const DAY_MS = 86_400_000
const MAX_POINTS = 10_000
export const BUCKETS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const

const epochMs = { type: 'integer', minimum: 0, description: 'epoch milliseconds' }
const key = { type: 'string', minLength: 1, maxLength: 64 }
const params = {
  type: 'object',
  required: ['uuid'],
  properties: { uuid: { type: 'string', minLength: 1, maxLength: 64 } }
}
const common = {
  tag: 'telemetry',
  role: 'viewer',
  params,
  badRequest: 'GW_ERR_TELEMETRY_BAD_QUERY',
  errors: ['GW_ERR_TELEMETRY_DEVICE_NOT_FOUND']
} as const

/** from/to with defaults (the last 24 h), checked to be in order. */
function range (q: { from?: number, to?: number }, now: number): { from: number, to: number } {
  const to = q.to ?? now + 1
  const from = q.from ?? to - DAY_MS
  if (from >= to) throw new GatewayError('GW_ERR_TELEMETRY_BAD_QUERY', 'invalid query: from must be before to')
  return { from, to }
}

async function deviceId (app: Services, uuid: string): Promise<number> {
  const id = await app.telemetry.repo.deviceId(uuid)
  if (id === undefined) throw new GatewayError('GW_ERR_TELEMETRY_DEVICE_NOT_FOUND', `no device ${uuid}`)
  return id
}

/**
 * `/telemetry`: the latest value per key, raw readings (newest first, cursor-paginated), and bucketed series
 * that read raw rows and per-minute aggregates alike, so a range across the retention boundary is continuous.
 * Times are epoch milliseconds; `to` is exclusive.
 */
export const telemetryRoutes: RouteSpec[] = [
  route<{ uuid: string }>({
    ...common,
    id: 'telemetry.latest',
    method: 'GET',
    path: '/telemetry/:uuid/latest',
    summary: 'The latest reading of every key of a device',
    handler: async (req, app) => {
      const id = await deviceId(app, req.params.uuid)
      return { device: req.params.uuid, readings: await app.telemetry.repo.latest(id) }
    }
  }),
  route<{ uuid: string }, { key: string, from?: number, to?: number, bucket: keyof typeof BUCKETS }>({
    ...common,
    id: 'telemetry.series',
    method: 'GET',
    path: '/telemetry/:uuid/series',
    summary: 'One key bucketed (min/max/avg/count/last per bucket, buckets aligned to the epoch, UTC)',
    query: {
      type: 'object',
      additionalProperties: false,
      required: ['key'],
      properties: {
        key,
        from: epochMs,
        to: epochMs,
        bucket: { type: 'string', enum: Object.keys(BUCKETS), default: '1m' }
      }
    },
    handler: async (req, app) => {
      const q = req.query
      const { from, to } = range(q, app.clock.now())
      const bucketMs = BUCKETS[q.bucket]
      if ((to - from) / bucketMs > MAX_POINTS) {
        throw new GatewayError(
          'GW_ERR_TELEMETRY_BAD_QUERY',
          `invalid query: more than ${MAX_POINTS} buckets; use a larger bucket or a shorter range`
        )
      }
      const id = await deviceId(app, req.params.uuid)
      return {
        device: req.params.uuid,
        key: q.key,
        bucket: q.bucket,
        from,
        to,
        points: await app.telemetry.repo.series(id, q.key, from, to, bucketMs)
      }
    }
  }),
  route<{ uuid: string }, { key?: string, from?: number, to?: number, limit: number, cursor?: string }>({
    ...common,
    id: 'telemetry.raw',
    method: 'GET',
    path: '/telemetry/:uuid',
    summary: 'Raw readings, newest first; pass the answer\'s nextCursor as cursor for the next page',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        key,
        from: epochMs,
        to: epochMs,
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        cursor: { type: 'string', pattern: '^\\d+:\\d+$' }
      }
    },
    handler: async (req, app) => {
      const q = req.query
      const { from, to } = range(q, app.clock.now())
      const id = await deviceId(app, req.params.uuid)
      const cursor =
        q.cursor === undefined ? undefined : { ts: Number(q.cursor.split(':')[0]), id: Number(q.cursor.split(':')[1]) }
      return {
        device: req.params.uuid,
        ...(await app.telemetry.repo.raw(id, { key: q.key, from, to, limit: q.limit, cursor }))
      }
    }
  })
]

import Router from '@koa/router'
import { Ajv, type ErrorObject } from 'ajv'
import type { AppContext } from '../../context.js'
import { GatewayError } from '../../errors.js'
import { requireApiRole } from '../middleware/api-access.js'

const DAY_MS = 86_400_000
const MAX_POINTS = 10_000
export const BUCKETS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: true })
const epochMs = { type: 'integer', minimum: 0, description: 'epoch milliseconds' }
const key = { type: 'string', minLength: 1, maxLength: 64 }
const validateRaw = ajv.compile<{ key?: string, from?: number, to?: number, limit: number, cursor?: string }>({
  type: 'object',
  additionalProperties: false,
  properties: { key, from: epochMs, to: epochMs, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: { type: 'string', pattern: '^\\d+:\\d+$' } }
})
const validateSeries = ajv.compile<{ key: string, from?: number, to?: number, bucket: keyof typeof BUCKETS }>({
  type: 'object',
  additionalProperties: false,
  required: ['key'],
  properties: { key, from: epochMs, to: epochMs, bucket: { type: 'string', enum: Object.keys(BUCKETS), default: '1m' } }
})

function badQuery (errors: ErrorObject[] | null | undefined): GatewayError {
  const details = (errors ?? []).map(e => ({ param: e.instancePath.slice(1) || (e.params as { additionalProperty?: string, missingProperty?: string }).additionalProperty || (e.params as { missingProperty?: string }).missingProperty, message: e.message }))
  return new GatewayError('GW_ERR_TELEMETRY_BAD_QUERY', `invalid query: ${details.map(d => `${String(d.param)} ${String(d.message)}`).join('; ')}`, details)
}

function query<T> (validate: { (q: unknown): q is T, errors?: ErrorObject[] | null }, raw: Record<string, unknown>): T {
  const q = { ...raw }
  if (!validate(q)) throw badQuery(validate.errors)
  return q
}

/** from/to with defaults (the last 24 h), checked to be in order. */
function range (q: { from?: number, to?: number }, now: number): { from: number, to: number } {
  const to = q.to ?? now + 1
  const from = q.from ?? to - DAY_MS
  if (from >= to) throw new GatewayError('GW_ERR_TELEMETRY_BAD_QUERY', 'invalid query: from must be before to')
  return { from, to }
}

async function deviceId (app: AppContext, uuid: string): Promise<number> {
  const id = await app.telemetry.repo.deviceId(uuid)
  if (id === undefined) throw new GatewayError('GW_ERR_TELEMETRY_DEVICE_NOT_FOUND', `no device ${uuid}`)
  return id
}

/**
 * `/api/v1/telemetry`: the latest value per key, raw readings (newest first, cursor-paginated), and bucketed
 * series that read raw rows and per-minute aggregates alike, so a range across the retention boundary is
 * continuous. Times are epoch milliseconds; `to` is exclusive.
 */
export function telemetryRoutes (app: AppContext): Router {
  const router = new Router({ prefix: '/api/v1/telemetry' })
  router.use(requireApiRole(app, 'viewer'))

  router.get('/:uuid/latest', async ctx => {
    const id = await deviceId(app, ctx.params.uuid)
    ctx.body = { device: ctx.params.uuid, readings: await app.telemetry.repo.latest(id) }
  })

  router.get('/:uuid/series', async ctx => {
    const q = query(validateSeries, ctx.query)
    const { from, to } = range(q, app.clock.now())
    const bucketMs = BUCKETS[q.bucket]
    if ((to - from) / bucketMs > MAX_POINTS) throw new GatewayError('GW_ERR_TELEMETRY_BAD_QUERY', `invalid query: more than ${MAX_POINTS} buckets; use a larger bucket or a shorter range`)
    const id = await deviceId(app, ctx.params.uuid)
    // Buckets are aligned to multiples of the bucket size since the epoch (UTC).
    ctx.body = { device: ctx.params.uuid, key: q.key, bucket: q.bucket, from, to, points: await app.telemetry.repo.series(id, q.key, from, to, bucketMs) }
  })

  router.get('/:uuid', async ctx => {
    const q = query(validateRaw, ctx.query)
    const { from, to } = range(q, app.clock.now())
    const id = await deviceId(app, ctx.params.uuid)
    const cursor = q.cursor === undefined ? undefined : { ts: Number(q.cursor.split(':')[0]), id: Number(q.cursor.split(':')[1]) }
    ctx.body = { device: ctx.params.uuid, ...await app.telemetry.repo.raw(id, { key: q.key, from, to, limit: q.limit, cursor }) }
  })
  return router
}

import type { CanSignal } from '../../../entities/index.js'
import { GatewayError } from '../../errors.js'
import type { CanSignalFields } from '../../persistence/repositories/can-signals.js'
import { fitsInFrame } from '../../services/can-decoder.js'
import {
  creates,
  getById, pageOf, pageQuery, route, type ApiDeps, type Page, type RouteSpec, type Schema
} from '../route-table.js'
import { fieldError, idParams, nullable, patchOf, record } from '../schemas.js'

const CAN_ID_MAX = 0x1FFFFFFF

const signalProps = {
  name: { type: 'string', minLength: 1, maxLength: 64 },
  canId: { type: 'integer', minimum: 0, maximum: CAN_ID_MAX, description: 'the frame id (11 or 29 bits)' },
  startBit: {
    type: 'integer',
    minimum: 0,
    maximum: 63,
    description: 'DBC numbering: the LSB (little endian) or the MSB (big endian)'
  },
  length: {
    type: 'integer',
    minimum: 1,
    maximum: 64,
    description: 'in bits; the signal must lie within the 8-byte frame'
  },
  byteOrder: { type: 'string', enum: ['little', 'big'], description: 'little = Intel (@1), big = Motorola (@0)' },
  isSigned: { type: 'boolean' },
  scale: { type: 'number' },
  offset: { type: 'number' },
  unit: nullable({ type: 'string', maxLength: 16 }),
  min: nullable({ type: 'number' }),
  max: nullable({ type: 'number' }),
  telemetryKey: {
    ...nullable({ type: 'string', minLength: 1, maxLength: 64 }),
    description: 'the telemetry key values are stored under; null: the name'
  },
  deviceUuid: {
    ...nullable({ type: 'string', minLength: 1, maxLength: 64 }),
    description: 'the CAN bridge it is read from; null: any bridge'
  },
  enabled: { type: 'boolean' }
}
const createBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'canId', 'startBit', 'length'],
  properties: signalProps
}
type Body = Partial<Omit<CanSignalFields, 'deviceId'>> & { deviceUuid?: string | null }

const signalFields = {
  id: { type: 'integer' },
  name: { type: 'string' },
  canId: { type: 'integer' },
  startBit: { type: 'integer' },
  length: { type: 'integer' },
  byteOrder: { type: 'string', enum: ['little', 'big'] },
  isSigned: { type: 'boolean' },
  scale: { type: 'number' },
  offset: { type: 'number' },
  unit: { type: ['string', 'null'] },
  min: { type: ['number', 'null'] },
  max: { type: ['number', 'null'] },
  telemetryKey: { type: ['string', 'null'] },
  deviceUuid: { type: ['string', 'null'] },
  enabled: { type: 'boolean' }
}
const signalSchema = record(signalFields)

/** The answer's fields in the schema's order: the signal's own, but the device as its uuid. */
function signalJson (s: CanSignal): Record<string, unknown> {
  const json: Record<string, unknown> = {}
  for (const key of Object.keys(signalFields) as Array<keyof typeof signalFields>) {
    json[key] = key === 'deviceUuid' ? s.device?.uuid ?? null : s[key]
  }
  return json
}

async function found (deps: ApiDeps, id: number): Promise<CanSignal> {
  const s = await deps.repos.canSignals.byId(id)
  if (s === undefined) throw new GatewayError('GW_ERR_CAN_SIGNAL_NOT_FOUND', `no CAN signal ${id}`)
  return s
}

/** The body's fields as columns: the device by uuid (404 when unknown). */
async function fieldsOf (deps: ApiDeps, body: Body): Promise<Partial<CanSignalFields>> {
  const { deviceUuid, ...rest } = body
  if (deviceUuid === undefined) return rest
  if (deviceUuid === null) return { ...rest, deviceId: null }
  const device = await deps.repos.devices.byUuid(deviceUuid)
  if (device === undefined) throw new GatewayError('GW_ERR_DEVICE_NOT_FOUND', `no device ${deviceUuid}`)
  return { ...rest, deviceId: device.id }
}

/**
 * The rules across fields, on the signal as it would be stored; then the (can_id, name, device) key `can import` uses.
 */
async function check (deps: ApiDeps, s: CanSignalFields, exceptId?: number): Promise<void> {
  if (!fitsInFrame(s.startBit, s.length, s.byteOrder)) {
    throw fieldError(
      '/length',
      `${s.length} bits from start bit ${s.startBit} (${s.byteOrder} endian) run past the 64 bits of a CAN frame`
    )
  }
  if (s.min !== null && s.max !== null && s.min > s.max) throw fieldError('/max', 'must not be below min')
  if (await deps.repos.canSignals.taken(s, exceptId)) {
    throw new GatewayError('GW_ERR_CAN_SIGNAL_EXISTS', `a signal ${s.name} of CAN id ${s.canId} exists for this device`)
  }
}

const tag = { tag: 'can-signals' } as const

/**
 * `/can-signals`: the decoding table of CAN frames (what `autocore-gateway can import` fills). Bit ranges are checked
 * with the decoder's own bit numbering. A running gateway's CAN handler picks changes up within 30 s, as for imports.
 */
export const canSignalsRoutes: RouteSpec[] = [
  route<unknown, Page & { canId?: number }>({
    ...tag,
    id: 'can-signals.list',
    method: 'GET',
    path: '/can-signals',
    role: 'viewer',
    summary: 'CAN signals by CAN id and name',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery, canId: signalProps.canId } },
    response: pageOf(signalSchema),
    handler: async (req, deps) => {
      const { rows, total } = await deps.repos.canSignals.list(req.query, { canId: req.query.canId })
      return { items: rows.map(signalJson), total, limit: req.query.limit, offset: req.query.offset }
    }
  }),
  getById({
    ...tag,
    id: 'can-signals.get',
    path: '/can-signals/:id',
    summary: 'One CAN signal',
    response: signalSchema,
    errors: ['GW_ERR_CAN_SIGNAL_NOT_FOUND'],
    load: found,
    view: signalJson
  }),
  route<unknown, unknown, Body>({
    ...tag,
    ...creates,
    id: 'can-signals.create',
    path: '/can-signals',
    summary: 'Add a CAN signal',
    body: createBody,
    response: signalSchema,
    errors: ['GW_ERR_DEVICE_NOT_FOUND', 'GW_ERR_CAN_SIGNAL_EXISTS'],
    handler: async (req, deps) => {
      const defaults = {
        byteOrder: 'little',
        isSigned: false,
        scale: 1,
        offset: 0,
        unit: null,
        min: null,
        max: null,
        telemetryKey: null,
        deviceId: null,
        enabled: true
      } as const
      const fields = { ...defaults, ...await fieldsOf(deps, req.body) } as CanSignalFields
      await check(deps, fields)
      return signalJson(await found(deps, await deps.repos.canSignals.create(fields)))
    }
  }),
  route<{ id: number }, unknown, Body>({
    ...tag,
    id: 'can-signals.update',
    method: 'PATCH',
    path: '/can-signals/:id',
    role: 'admin',
    summary: 'Change a CAN signal',
    params: idParams('id'),
    body: patchOf(createBody),
    response: signalSchema,
    errors: ['GW_ERR_CAN_SIGNAL_NOT_FOUND', 'GW_ERR_DEVICE_NOT_FOUND', 'GW_ERR_CAN_SIGNAL_EXISTS'],
    handler: async (req, deps) => {
      const before = await found(deps, req.params.id)
      const patch = await fieldsOf(deps, req.body)
      await check(deps, { ...before, ...patch }, before.id)
      await deps.repos.canSignals.update(before.id, patch)
      return signalJson(await found(deps, before.id))
    }
  }),
  route<{ id: number }>({
    ...tag,
    id: 'can-signals.delete',
    method: 'DELETE',
    path: '/can-signals/:id',
    role: 'admin',
    summary: 'Delete a CAN signal',
    params: idParams('id'),
    status: 204,
    errors: ['GW_ERR_CAN_SIGNAL_NOT_FOUND'],
    handler: async (req, deps) => {
      if (!(await deps.repos.canSignals.delete(req.params.id))) {
        throw new GatewayError('GW_ERR_CAN_SIGNAL_NOT_FOUND', `no CAN signal ${req.params.id}`)
      }
    }
  })
]

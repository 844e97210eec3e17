import type { NewCanSignal } from '../../../src/persistence/repositories/can-signals.js'
import { provisionDevice } from '../../helpers/devices.js'
import type { Cases, Harness } from './harness.js'

const NO_SUCH_ID = 999_999

export async function storedSignal (
  h: Harness,
  fields: Partial<NewCanSignal> = {},
  deviceId: number | null = null
): Promise<number> {
  return await h.app.gateway.services.repos.canSignals.create({
    name: 'rpm',
    canId: 0x100,
    startBit: 0,
    length: 16,
    byteOrder: 'little',
    isSigned: false,
    scale: 0.25,
    offset: 0,
    unit: 'rpm',
    min: 0,
    max: 16000,
    telemetryKey: null,
    deviceId,
    enabled: true,
    ...fields
  })
}

const unknownSignal = async (): Promise<{ params: { id: number } }> => ({ params: { id: NO_SUCH_ID } })

export const canSignalsCases: Cases = {
  'can-signals.list': {
    happy: async h => {
      const id = await storedSignal(h, { canId: 0x2A0, name: 'speed' })
      await storedSignal(h, { canId: 0x2A1 })
      return {
        query: { canId: 0x2A0 },
        check: (t, res) => t.same(res.body, {
          total: 1,
          limit: 100,
          offset: 0,
          items: [{
            id,
            name: 'speed',
            canId: 0x2A0,
            startBit: 0,
            length: 16,
            byteOrder: 'little',
            isSigned: false,
            scale: 0.25,
            offset: 0,
            unit: 'rpm',
            min: 0,
            max: 16000,
            telemetryKey: null,
            deviceUuid: null,
            enabled: true
          }]
        })
      }
    }
  },
  'can-signals.get': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app, { type: 'can_bridge' })
      const device = await h.app.gateway.services.repos.devices.byUuid(uuid)
      const id = await storedSignal(h, { name: 'coolant' }, device?.id ?? null)
      return { params: { id }, check: (t, res) => t.match(res.body, { id, name: 'coolant', deviceUuid: uuid }) }
    },
    notFound: unknownSignal
  },
  'can-signals.create': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app, { type: 'can_bridge' })
      return {
        body: {
          name: 'temp',
          canId: 0x18FEEE00,
          startBit: 7,
          length: 8,
          byteOrder: 'big',
          isSigned: true,
          scale: 1,
          offset: -40,
          unit: 'C',
          min: -40,
          max: 210,
          deviceUuid: uuid
        },
        check: async (t, res) => {
          t.same(res.body, {
            id: res.body.id,
            name: 'temp',
            canId: 0x18FEEE00,
            startBit: 7,
            length: 8,
            byteOrder: 'big',
            isSigned: true,
            scale: 1,
            offset: -40,
            unit: 'C',
            min: -40,
            max: 210,
            telemetryKey: null,
            deviceUuid: uuid,
            enabled: true
          })
          t.ok(
            (await h.app.gateway.services.repos.canSignals.enabled()).some(
              s => s.id === res.body.id && s.canId === 0x18FEEE00
            ),
            'the decoder\'s table has it'
          )
        }
      }
    },
    conflict: async h => {
      await storedSignal(h, { name: 'dup', canId: 0x300 })
      return { body: { name: 'dup', canId: 0x300, startBit: 8, length: 8 } }
    }
  },
  'can-signals.update': {
    happy: async h => {
      const id = await storedSignal(h, { name: 'rpm2' })
      return {
        params: { id },
        body: { startBit: 48, length: 16, telemetryKey: 'engine_rpm' },
        check: async (t, res) => {
          t.match(res.body, { id, startBit: 48, length: 16, telemetryKey: 'engine_rpm', name: 'rpm2' })
          t.match(
            await h.app.gateway.services.repos.canSignals.byId(id),
            { startBit: 48, telemetryKey: 'engine_rpm' },
            'stored'
          )
        }
      }
    },
    notFound: async () => ({ params: { id: NO_SUCH_ID }, body: { length: 8 } }),
    conflict: async h => {
      await storedSignal(h, { name: 'a', canId: 0x400 })
      return { params: { id: await storedSignal(h, { name: 'b', canId: 0x400 }) }, body: { name: 'a' } }
    }
  },
  'can-signals.delete': {
    happy: async h => {
      const id = await storedSignal(h)
      return {
        params: { id },
        check: async t => t.equal(await h.app.gateway.services.repos.canSignals.byId(id), undefined, 'gone')
      }
    },
    notFound: unknownSignal
  }
}

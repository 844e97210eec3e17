import { provisionDevice } from '../../helpers/devices.js'
import type { Cases } from './harness.js'

const unknown = async (): Promise<{ params: { uuid: string } }> => ({ params: { uuid: 'no-such-device' } })

export const telemetryCases: Cases = {
  'telemetry.latest': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app)
      return { params: { uuid }, check: (t, res) => t.same(res.body, { device: uuid, readings: [] }) }
    },
    notFound: unknown
  },
  'telemetry.series': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app)
      return {
        params: { uuid },
        query: { key: 'temp' },
        check: (t, res) => t.match(res.body, { device: uuid, key: 'temp', bucket: '1m', points: [] })
      }
    },
    notFound: async () => ({ params: { uuid: 'no-such-device' }, query: { key: 'temp' } })
  },
  'telemetry.raw': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app)
      return { params: { uuid }, check: (t, res) => t.match(res.body, { device: uuid, items: [], next: null }) }
    },
    notFound: unknown
  }
}

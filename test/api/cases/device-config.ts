import { provisionDevice } from '../../helpers/devices.js'
import type { Cases, Harness } from './harness.js'

const unknown = async (): Promise<{ params: { uuid: string } }> => ({ params: { uuid: 'no-such-device' } })

/** A device whose config is at version 1, set through the service the route uses. */
async function configured (h: Harness): Promise<string> {
  const { uuid } = await provisionDevice(h.app)
  await h.app.gateway.services.deviceConfig.update(uuid, { screen: 'main' })
  return uuid
}

export const deviceConfigCases: Cases = {
  'deviceConfig.get': {
    happy: async h => {
      const uuid = await configured(h)
      return {
        params: { uuid },
        check: (t, res) =>
          t.same(res.body, { uuid, version: 1, appliedVersion: null, lagging: true, config: { screen: 'main' } })
      }
    },
    notFound: unknown
  },
  'deviceConfig.update': {
    happy: async h => {
      const uuid = await configured(h)
      return {
        params: { uuid },
        body: { config: { screen: 'night', brightness: 40 }, expectedVersion: 1 },
        check: async (t, res) => {
          t.same(res.body, { uuid, version: 2 })
          t.same(
            await h.app.gateway.services.deviceConfig.view(uuid),
            { uuid, version: 2, appliedVersion: null, lagging: true, config: { screen: 'night', brightness: 40 } },
            'stored'
          )
        }
      }
    },
    notFound: async () => ({ params: { uuid: 'no-such-device' }, body: { config: {} } }),
    conflict: async h => ({ params: { uuid: await configured(h) }, body: { config: {}, expectedVersion: 7 } })
  },
  'deviceConfig.lagging': {
    happy: async h => {
      const uuid = await configured(h)
      return {
        check: (t, res) => {
          t.match(res.body, { limit: 100, offset: 0 })
          t.match(
            res.body.items.find((d: { uuid: string }) => d.uuid === uuid),
            { uuid, version: 1, appliedVersion: null, status: 'offline', lastSeen: null }
          )
          t.equal(res.body.total, res.body.items.length)
        }
      }
    }
  }
}

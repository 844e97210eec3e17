import { randomUUID } from 'node:crypto'
import { hashSecret, verifySecret } from '../../../src/auth/passwords.js'
import { provisionDevice } from '../../helpers/devices.js'
import type { Cases, Harness } from './harness.js'

const unknown = async (): Promise<{ params: { uuid: string } }> => ({ params: { uuid: 'no-such-device' } })

/** A device stored a second ago (the change feed reads only up to the previous millisecond). */
async function olderDevice (h: Harness, status?: 'pending'): Promise<{ uuid: string, at: number }> {
  const ctx = h.app.gateway.services
  const uuid = randomUUID()
  const at = ctx.clock.now() - 1000
  await ctx.repos.devices.create({ uuid, name: 'older', type: 'sensor', secretHash: await hashSecret('x'), status }, at)
  return { uuid, at }
}

const DEVICE_KEYS = [
  'appliedConfigVersion',
  'capabilities',
  'configVersion',
  'createdAt',
  'enabled',
  'firmware',
  'ipAddress',
  'lastSeen',
  'macAddress',
  'name',
  'status',
  'type',
  'updatedAt',
  'uuid'
]

export const devicesCases: Cases = {
  'devices.list': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app, { type: 'display', capabilities: ['display'] })
      return {
        query: { type: 'display', status: 'offline' },
        check: (t, res) => {
          t.match(res.body, { total: 1, limit: 100, offset: 0 })
          t.same(Object.keys(res.body.items[0]).sort(), DEVICE_KEYS, 'exactly the documented fields, no secret hash')
          t.match(res.body.items[0], {
            uuid,
            type: 'display',
            status: 'offline',
            enabled: true,
            capabilities: ['display'],
            lastSeen: null,
            configVersion: 0,
            appliedConfigVersion: null,
            createdAt: /^\d{4}-\d\d-\d\dT/
          })
        }
      }
    }
  },
  'devices.changes': {
    happy: async h => {
      const { uuid, at } = await olderDevice(h)
      const since = at - 1
      return {
        query: { since },
        check: (t, res) => {
          t.equal(res.body.items[0].uuid, uuid, 'the oldest change first')
          for (const d of res.body.items) t.ok(Date.parse(d.updatedAt) > since, 'only changes after since')
          t.same(res.body.deleted, [])
          t.ok(res.body.cursor > since && res.body.cursor < Date.now(), 'the cursor is a moment before now')
          t.equal(res.body.until, new Date(res.body.cursor).toISOString())
        }
      }
    }
  },
  'devices.get': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app, { name: 'Front relays' })
      return {
        params: { uuid },
        check: (t, res) => t.match(res.body, { uuid, name: 'Front relays', type: 'relay_board', status: 'offline' })
      }
    },
    notFound: unknown
  },
  'devices.create': {
    happy: async h => {
      const uuid = randomUUID()
      return {
        body: { name: 'Cabin sensor', type: 'sensor', uuid, capabilities: ['emergency_button'] },
        check: async (t, res) => {
          t.match(res.body, {
            uuid,
            name: 'Cabin sensor',
            type: 'sensor',
            status: 'offline',
            enabled: true,
            capabilities: ['emergency_button'],
            secret: /^[\w-]{32}$/
          })
          const stored = await h.app.gateway.services.repos.devices.byUuid(uuid)
          t.match(stored?.secretHash, /^scrypt\$/, 'stored only as its hash')
          t.ok(await verifySecret(res.body.secret, stored?.secretHash ?? ''), 'the shown secret is the stored one')
        }
      }
    },
    conflict: async h => {
      const { uuid } = await provisionDevice(h.app)
      return { body: { name: 'again', type: 'sensor', uuid } }
    }
  },
  'devices.update': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app)
      return {
        params: { uuid },
        body: { name: 'Renamed', enabled: false, capabilities: ['display'] },
        check: async (t, res) => {
          t.match(res.body, { uuid, name: 'Renamed', enabled: false, capabilities: ['display'], type: 'relay_board' })
          t.match(await h.app.gateway.services.repos.devices.byUuid(uuid), { name: 'Renamed', enabled: false })
        }
      }
    },
    notFound: async () => ({ params: { uuid: 'no-such-device' }, body: { name: 'x' } })
  },
  'devices.delete': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app)
      return {
        params: { uuid },
        check: async (t, res) => {
          t.equal(res.body, undefined, 'no body')
          t.equal(await h.app.gateway.services.repos.devices.byUuid(uuid), undefined, 'gone')
        }
      }
    },
    notFound: unknown
  },
  'devices.rotateSecret': {
    happy: async h => {
      const { uuid, secret } = await provisionDevice(h.app)
      return {
        params: { uuid },
        check: async (t, res) => {
          t.match(res.body, { uuid, secret: /^[\w-]{32}$/ })
          const hash = (await h.app.gateway.services.repos.devices.byUuid(uuid))?.secretHash ?? ''
          t.ok(await verifySecret(res.body.secret, hash), 'the new secret is stored (as its hash)')
          t.notOk(await verifySecret(secret, hash), 'the old one is not')
        }
      }
    },
    notFound: unknown
  },
  'devices.approve': {
    happy: async h => {
      const { uuid } = await olderDevice(h, 'pending')
      return { params: { uuid }, check: (t, res) => t.match(res.body, { uuid, status: 'offline' }) }
    },
    notFound: unknown
  }
}

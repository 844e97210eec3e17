import type { ScreenItemFields } from '../../../src/persistence/repositories/screens.js'
import { waitFor } from '../../helpers/mqtt.js'
import type { Cases, Harness } from './harness.js'
import { eventually } from './macros.js'
import { offlineChannels, onlineBoard } from './relays.js'

const NO_SUCH_ID = 999_999

export async function storedScreen (h: Harness, name = 'main'): Promise<number> {
  return await h.app.gateway.services.repos.screens.create({
    name,
    title: `${name} screen`,
    deviceType: null,
    position: 0,
    enabled: true
  })
}

export async function storedItem (
  h: Harness,
  screenId: number,
  fields: Partial<ScreenItemFields> = {}
): Promise<number> {
  return await h.app.gateway.services.repos.screens.createItem(screenId, {
    itemType: 'button',
    label: 'go',
    position: 0,
    relayChannelId: null,
    mutexGroup: null,
    action: null,
    dataSource: null,
    style: null,
    ...fields
  })
}

const unknownScreen = async (): Promise<{ params: { id: number } }> => ({ params: { id: NO_SUCH_ID } })
const unknownItem = async (): Promise<{ params: { itemId: number } }> => ({ params: { itemId: NO_SUCH_ID } })

export const screensCases: Cases = {
  'screens.list': {
    happy: async h => {
      const id = await storedScreen(h, 'listed')
      return {
        check: (t, res) =>
          t.same(
            res.body.items.find((s: { id: number }) => s.id === id),
            { id, name: 'listed', title: 'listed screen', deviceType: null, position: 0, enabled: true }
          )
      }
    }
  },
  'screens.get': {
    happy: async h => {
      const id = await storedScreen(h)
      const second = await storedItem(h, id, { label: 'second', position: 2 })
      const first = await storedItem(h, id, { label: 'first', position: 1, style: { color: 'red' } })
      return {
        params: { id },
        check: (t, res) => {
          t.match(res.body, { id, name: 'main' })
          t.same(res.body.items.map((i: { id: number }) => i.id), [first, second], 'items by position')
          t.same(res.body.items[0], {
            id: first,
            screenId: id,
            itemType: 'button',
            label: 'first',
            position: 1,
            relayChannelId: null,
            mutexGroup: null,
            action: null,
            dataSource: null,
            style: { color: 'red' }
          })
        }
      }
    },
    notFound: unknownScreen
  },
  'screens.create': {
    happy: async h => ({
      body: { name: 'dash', title: 'Dashboard', deviceType: 'display', position: 3 },
      check: async (t, res) => {
        t.same(res.body, {
          id: res.body.id,
          name: 'dash',
          title: 'Dashboard',
          deviceType: 'display',
          position: 3,
          enabled: true
        })
        t.match(
          await h.app.gateway.services.repos.screens.byId(res.body.id),
          { name: 'dash', deviceType: 'display' },
          'stored'
        )
      }
    })
  },
  'screens.update': {
    happy: async h => {
      const id = await storedScreen(h)
      return {
        params: { id },
        body: { title: 'Main', enabled: false },
        check: (t, res) => t.match(res.body, { id, name: 'main', title: 'Main', enabled: false })
      }
    },
    notFound: async () => ({ params: { id: NO_SUCH_ID }, body: { title: 'x' } })
  },
  'screens.delete': {
    happy: async h => {
      const id = await storedScreen(h)
      const item = await storedItem(h, id)
      return {
        params: { id },
        check: async t => {
          t.equal(await h.app.gateway.services.repos.screens.byId(id), undefined, 'gone')
          t.equal(await h.app.gateway.services.repos.screens.item(item), undefined, 'with its items')
        }
      }
    },
    notFound: unknownScreen
  },
  'screens.items.list': {
    happy: async h => {
      const id = await storedScreen(h)
      const item = await storedItem(h, id)
      await storedItem(h, await storedScreen(h, 'other'))
      return { params: { id }, check: (t, res) => t.match(res.body, { total: 1, items: [{ id: item, screenId: id }] }) }
    },
    notFound: unknownScreen
  },
  'screens.items.create': {
    happy: async h => {
      const id = await storedScreen(h)
      const { ids } = await offlineChannels(h, [{ channel: 1 }])
      return {
        params: { id },
        body: {
          itemType: 'switch',
          label: 'Forward',
          relayChannelId: ids[1],
          mutexGroup: 'beams',
          action: { relayAction: 'on', icon: 'arrow-up' }
        },
        check: async (t, res) => {
          t.same(res.body, {
            id: res.body.id,
            screenId: id,
            itemType: 'switch',
            label: 'Forward',
            position: 0,
            relayChannelId: ids[1],
            mutexGroup: 'beams',
            action: { relayAction: 'on', icon: 'arrow-up' },
            dataSource: null,
            style: null
          })
          t.match(
            await h.app.gateway.services.repos.screens.item(res.body.id),
            { relayChannelId: ids[1], mutexGroup: 'beams' },
            'stored'
          )
        }
      }
    },
    notFound: async () => ({ params: { id: NO_SUCH_ID }, body: { itemType: 'button', label: 'x' } })
  },
  'screens.items.get': {
    happy: async h => {
      const item = await storedItem(h, await storedScreen(h), { dataSource: { telemetry: 'temp' } })
      return {
        params: { itemId: item },
        check: (t, res) => t.match(res.body, { id: item, dataSource: { telemetry: 'temp' } })
      }
    },
    notFound: unknownItem
  },
  'screens.items.update': {
    happy: async h => {
      const item = await storedItem(h, await storedScreen(h), { mutexGroup: 'a' })
      return {
        params: { itemId: item },
        body: { label: 'Reverse', mutexGroup: null },
        check: async (t, res) => {
          t.match(res.body, { id: item, label: 'Reverse', mutexGroup: null })
          t.match(
            await h.app.gateway.services.repos.screens.item(item),
            { label: 'Reverse', mutexGroup: null },
            'stored'
          )
        }
      }
    },
    notFound: async () => ({ params: { itemId: NO_SUCH_ID }, body: { label: 'x' } })
  },
  'screens.items.delete': {
    happy: async h => {
      const item = await storedItem(h, await storedScreen(h))
      return {
        params: { itemId: item },
        check: async t => t.equal(await h.app.gateway.services.repos.screens.item(item), undefined, 'gone')
      }
    },
    notFound: unknownItem
  },
  'screens.items.activate': {
    happy: async h => {
      // Two items of one screen-item group on channels that share no relay mutex group: the item group still holds.
      const { board, ids } = await onlineBoard(h, [{ channel: 1 }, { channel: 2 }])
      const screen = await storedScreen(h)
      const forward = await storedItem(h, screen, { relayChannelId: ids[1], mutexGroup: 'drive' })
      const reverse = await storedItem(h, screen, { relayChannelId: ids[2], mutexGroup: 'drive' })
      const r = await h.app.gateway.services.relays.setChannel({
        deviceUuid: board.uuid,
        channel: 2,
        action: 'on',
        source: 'api'
      })
      await r.outcome
      await eventually(async () => (await h.app.gateway.services.relays.channelById(ids[2]))?.currentState === true)
      board.commands.length = 0
      return {
        params: { itemId: forward },
        check: async (t, res) => {
          t.match(res.body, {
            itemId: forward,
            relayId: ids[1],
            action: 'on',
            turnedOff: [ids[2]],
            deactivated: [reverse]
          })
          await waitFor(() => board.commands.length === 2)
          t.same(
            board.commands.map(c => `${String(c.body.action)}${String(c.body.channel)}`),
            ['off2', 'on1'],
            'the other of the group off first, then this one on'
          )
          t.same(board.history.at(-1), { 1: true, 2: false }, 'never both on')
        }
      }
    },
    notFound: unknownItem,
    conflict: async h => ({ params: { itemId: await storedItem(h, await storedScreen(h)) } })
  }
}

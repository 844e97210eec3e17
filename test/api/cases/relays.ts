import type { Test } from 'tap'
import { addChannels, simBoard, type ChannelSpec, type SimBoard } from '../../helpers/boards.js'
import { provisionDevice } from '../../helpers/devices.js'
import { waitFor } from '../../helpers/mqtt.js'
import type { Cases, Harness, Res } from './harness.js'

const NO_SUCH_ID = 999_999

/** A simulated relay board, online as far as the commands service knows, with its channels' ids by number. */
export async function onlineBoard (
  h: Harness,
  channels: ChannelSpec[]
): Promise<{ board: SimBoard, ids: Record<number, number> }> {
  const board = await simBoard(h.t, h.app, { channels })
  await waitFor(() => h.app.gateway.services.commands.isOnline(board.uuid))
  const ids = Object.fromEntries(
    (await h.app.gateway.services.repos.relays.list({ limit: 100, offset: 0 }, board.uuid)).rows.map(r => [
      r.channelNumber,
      r.id
    ])
  )
  return { board, ids }
}

/** Channels on a provisioned board that is not connected. */
export async function offlineChannels (
  h: Harness,
  channels: ChannelSpec[]
): Promise<{ uuid: string, ids: Record<number, number> }> {
  const { uuid } = await provisionDevice(h.app, { name: 'pump board' })
  return { uuid, ids: await addChannels(h.app, uuid, channels) }
}

/** Waits until the board got the relay command the API answered with, and checks its action. */
async function boardGot (t: Test, board: SimBoard, res: Res, expect: Record<string, unknown>): Promise<void> {
  await waitFor(() => board.commands.some(c => c.body.command_id === res.body.commandId))
  t.match(
    board.commands.find(c => c.body.command_id === res.body.commandId)?.body,
    expect,
    'the board received the command'
  )
}

const unknownRelay = async (): Promise<{ params: { id: number } }> => ({ params: { id: NO_SUCH_ID } })
const disabledRelay = async (h: Harness): Promise<{ params: { id: number } }> => ({
  params: { id: (await offlineChannels(h, [{ channel: 1, enabled: false }])).ids[1] }
})

function controlCase (action: 'on' | 'off' | 'toggle' | 'pulse'): Cases[string] {
  return {
    happy: async h => {
      const { board, ids } = await onlineBoard(h, [{ channel: 3, pulseMs: 500 }])
      return {
        params: { id: ids[3] },
        body: action === 'pulse' ? { durationMs: 250 } : action === 'off' ? undefined : {},
        check: async (t, res) => {
          const sent = action === 'toggle' ? 'on' : action
          t.match(res.body, {
            relayId: ids[3],
            commandId: /^[0-9a-f-]{36}$/,
            action: sent,
            status: 'sent',
            turnedOff: []
          })
          await boardGot(t, board, res, {
            channel: 3,
            action: sent,
            ...(action === 'pulse' ? { duration_ms: 250 } : {})
          })
          const row = await h.app.gateway.services.repos.relays.withDevice(ids[3])
          if (action === 'on' || action === 'toggle') t.equal(row?.desiredState, true, 'desired state on')
        }
      }
    },
    notFound: unknownRelay,
    conflict: disabledRelay
  }
}

export const relaysCases: Cases = {
  'relays.list': {
    happy: async h => {
      const { uuid, ids } = await offlineChannels(h, [
        { channel: 2, name: 'lights', mutexGroup: 'g', maxOnMs: 5000 },
        { channel: 1, function: 'momentary' }
      ])
      await offlineChannels(h, [{ channel: 1 }])
      return {
        query: { deviceUuid: uuid },
        check: (t, res) => {
          t.equal(res.body.total, 2, 'only that board')
          t.same(res.body.items.map((r: { id: number }) => r.id), [ids[1], ids[2]], 'by channel number')
          t.same(res.body.items[1], {
            id: ids[2],
            deviceUuid: uuid,
            deviceName: 'pump board',
            channelNumber: 2,
            name: 'lights',
            function: 'toggle',
            mutexGroup: 'g',
            maxOnMs: 5000,
            pulseMs: null,
            defaultState: false,
            currentState: null,
            desiredState: null,
            enabled: true,
            failSafe: 'hold'
          }, 'the exact relay JSON')
        }
      }
    }
  },
  'relays.get': {
    happy: async h => {
      const { uuid, ids } = await offlineChannels(h, [{ channel: 4, function: 'pulse', pulseMs: 300 }])
      return {
        params: { id: ids[4] },
        check: (t, res) =>
          t.match(res.body, { id: ids[4], deviceUuid: uuid, channelNumber: 4, function: 'pulse', pulseMs: 300 })
      }
    },
    notFound: unknownRelay
  },
  'relays.create': {
    happy: async h => {
      const { uuid } = await provisionDevice(h.app, { name: 'winch board' })
      return {
        body: {
          deviceUuid: uuid,
          channelNumber: 5,
          name: 'winch in',
          function: 'momentary',
          mutexGroup: 'winch',
          maxOnMs: 20000
        },
        check: async (t, res) => {
          t.same(res.body, {
            id: res.body.id,
            deviceUuid: uuid,
            deviceName: 'winch board',
            channelNumber: 5,
            name: 'winch in',
            function: 'momentary',
            mutexGroup: 'winch',
            maxOnMs: 20000,
            pulseMs: null,
            defaultState: false,
            currentState: null,
            desiredState: null,
            enabled: true,
            failSafe: 'hold'
          })
          t.match(
            await h.app.gateway.services.relays.channelById(res.body.id),
            { deviceUuid: uuid, channelNumber: 5, mutexGroup: 'winch' },
            'the service sees it'
          )
        }
      }
    },
    conflict: async h => {
      const { uuid } = await offlineChannels(h, [{ channel: 1 }])
      return { body: { deviceUuid: uuid, channelNumber: 1, name: 'again', function: 'toggle' } }
    }
  },
  'relays.update': {
    happy: async h => {
      const { ids } = await offlineChannels(h, [{ channel: 1 }])
      return {
        params: { id: ids[1] },
        body: { name: 'reverse', mutexGroup: 'drive', enabled: false },
        check: async (t, res) => {
          t.match(res.body, { id: ids[1], name: 'reverse', mutexGroup: 'drive', enabled: false, channelNumber: 1 })
          t.match(await h.app.gateway.services.relays.channelById(ids[1]), {
            name: 'reverse',
            mutexGroup: 'drive',
            enabled: false
          })
        }
      }
    },
    notFound: async () => ({ params: { id: NO_SUCH_ID }, body: { name: 'x' } }),
    conflict: async h => {
      const { ids } = await offlineChannels(h, [{ channel: 1 }, { channel: 2 }])
      return { params: { id: ids[2] }, body: { channelNumber: 1 } }
    }
  },
  'relays.delete': {
    happy: async h => {
      const { ids } = await offlineChannels(h, [{ channel: 1 }])
      return {
        params: { id: ids[1] },
        check: async t => t.equal(await h.app.gateway.services.relays.channelById(ids[1]), undefined, 'gone')
      }
    },
    notFound: unknownRelay
  },
  'relays.on': controlCase('on'),
  'relays.off': controlCase('off'),
  'relays.toggle': controlCase('toggle'),
  'relays.pulse': controlCase('pulse'),
  'controls.hold': {
    happy: async h => {
      const { board, ids } = await onlineBoard(h, [{ channel: 1, function: 'momentary' }])
      return {
        body: { relayId: ids[1], durationMs: 20_000 },
        check: async (t, res) => {
          t.match(res.body, { relayId: ids[1], action: 'on', status: 'sent', holdMs: 20_000 })
          await boardGot(t, board, res, { channel: 1, action: 'on' })
        }
      }
    },
    conflict: async h => ({ body: { relayId: (await disabledRelay(h)).params.id } })
  }
}

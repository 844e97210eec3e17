import { userClient } from '../../helpers/devices.js'
import { nextMessage, waitFor } from '../../helpers/mqtt.js'
import type { Cases, Harness } from './harness.js'
import { onlineBoard } from './relays.js'

/** The retained autocore/emergency/state, as a panel connecting now reads it. */
export async function retainedState (h: Harness): Promise<Record<string, unknown>> {
  const { client } = await userClient(h.t, h.app, 'viewer')
  await client.subscribeAsync('autocore/emergency/state', { qos: 1 })
  return JSON.parse((await nextMessage(client, 'autocore/emergency/state')).payload.toString())
}

export const emergencyCases: Cases = {
  'emergency.get': {
    happy: async h => ({
      check: async (t, res) => {
        t.same(res.body, { active: false, reason: null, source: null, since: null })
        t.same(res.body, await retainedState(h), 'the same as the retained state')
      }
    })
  },
  'emergency.stop': {
    happy: async h => {
      const { board } = await onlineBoard(h, [{ channel: 1 }])
      return {
        body: { reason: 'smoke in the cabin' },
        check: async (t, res) => {
          t.match(res.body, { active: true, reason: 'smoke in the cabin', source: /^user:operator-/, since: String })
          t.same(await retainedState(h), res.body, 'the retained state is active, as answered')
          await waitFor(() => board.commands.some(c => c.body.action === 'off' && c.body.channel === 1))
          t.pass('the board got its off-command')
          t.equal(h.app.gateway.services.emergency.record.active, true)
        }
      }
    }
  },
  'emergency.reset': {
    happy: async h => {
      await h.app.gateway.services.emergency.trigger({ reason: 'test', actor: { kind: 'gateway' } })
      return {
        check: async (t, res) => {
          t.same(res.body, { active: false, reason: null, source: null, since: null })
          t.same(await retainedState(h), res.body, 'the retained state is inactive again')
          t.match(
            h.app.gateway.services.emergency.record,
            { active: false, reset_by: /^admin-/ },
            'reset by the API user'
          )
        }
      }
    }
  }
}

import { randomBytes } from 'node:crypto'
import { waitFor } from '../../helpers/mqtt.js'
import type { NewMacroAction } from '../../../src/persistence/repositories/macros.js'
import type { Cases, Harness } from './harness.js'
import { onlineBoard } from './relays.js'

const NO_SUCH_ID = 999_999

/** A macro straight in the store; resolves with its id. */
export async function storedMacro (
  h: Harness,
  actions: NewMacroAction[],
  opts: { name?: string, enabled?: boolean } = {}
): Promise<number> {
  const id = await h.app.gateway.services.repos.macros.create(
    {
      name: opts.name ?? `macro ${randomBytes(4).toString('hex')}`,
      description: null,
      enabled: opts.enabled ?? true,
      actions
    },
    h.app.gateway.services.clock.now()
  )
  if (id === undefined) throw new Error('macro name taken')
  return id
}

export async function eventually (cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('condition not met in time')
}

const unknownMacro = async (): Promise<{ params: { id: number } }> => ({ params: { id: NO_SUCH_ID } })
const longDelay: NewMacroAction[] = [{ type: 'delay', params: { ms: 3_600_000 } }]

export const macrosCases: Cases = {
  'macros.list': {
    happy: async h => {
      const id = await storedMacro(h, [{ type: 'delay', params: { ms: 5 } }], { name: 'listed' })
      return {
        check: (t, res) =>
          t.match(
            res.body.items.find((m: { id: number }) => m.id === id),
            { name: 'listed', actions: [{ type: 'delay', params: { ms: 5 }, condition: null }] }
          )
      }
    }
  },
  'macros.get': {
    happy: async h => {
      const id = await storedMacro(
        h,
        [
          {
            type: 'relay',
            params: { device_uuid: 'board-1', channel: 1, action: 'on' },
            condition: { relay: 7, is: 'off' }
          }
        ],
        { name: 'one' }
      )
      return {
        params: { id },
        check: (t, res) => t.same(res.body, {
          id,
          name: 'one',
          description: null,
          enabled: true,
          actions: [
            {
              type: 'relay',
              params: { device_uuid: 'board-1', channel: 1, action: 'on' },
              condition: { relay: 7, is: 'off' }
            }
          ],
          createdAt: res.body.createdAt,
          updatedAt: res.body.updatedAt
        })
      }
    },
    notFound: unknownMacro
  },
  'macros.create': {
    happy: async () => {
      const actions = [
        { type: 'relay', params: { device_uuid: 'board-1', channel: 2, action: 'pulse', duration_ms: 300 } },
        { type: 'delay', params: { ms: 1000 } },
        {
          type: 'command',
          params: { device_uuid: 'board-1', command: 'beep', params: { n: 2 } },
          condition: { telemetry: { uuid: 'board-1', key: 'temp' }, op: '>', value: 40 }
        },
        { type: 'mqtt_publish', params: { topic: 'autocore/display/banner', payload: { text: 'hi' } } }
      ]
      return {
        body: { name: 'evening', description: 'lights and a beep', actions },
        check: async (t, res) => {
          t.match(res.body, {
            id: Number,
            name: 'evening',
            description: 'lights and a beep',
            enabled: true,
            createdAt: String
          })
          t.same(res.body.actions, actions.map(a => ({ condition: null, ...a })), 'the actions, in order')
        }
      }
    },
    conflict: async h => {
      await storedMacro(h, [], { name: 'taken' })
      return { body: { name: 'taken', actions: [] } }
    }
  },
  'macros.update': {
    happy: async h => {
      const id = await storedMacro(h, [{ type: 'delay', params: { ms: 1 } }, { type: 'delay', params: { ms: 2 } }])
      return {
        params: { id },
        body: { enabled: false, actions: [{ type: 'delay', params: { delay_ms: 9 } }] },
        check: async (t, res) => {
          t.match(res.body, { id, enabled: false, actions: [{ type: 'delay', params: { delay_ms: 9 } }] })
          const stored = await h.app.gateway.services.repos.macros.macro(id)
          t.same(stored?.actions.map(a => a.params), [{ delay_ms: 9 }], 'the old actions are replaced')
        }
      }
    },
    notFound: async () => ({ params: { id: NO_SUCH_ID }, body: { enabled: false } }),
    conflict: async h => {
      await storedMacro(h, [], { name: 'first' })
      return { params: { id: await storedMacro(h, []) }, body: { name: 'first' } }
    }
  },
  'macros.delete': {
    happy: async h => {
      const id = await storedMacro(h, [])
      return {
        params: { id },
        check: async t => t.equal(await h.app.gateway.services.repos.macros.macro(id), undefined, 'gone')
      }
    },
    notFound: unknownMacro
  },
  'macros.execute': {
    happy: async h => {
      const { board } = await onlineBoard(h, [{ channel: 1 }])
      const id = await storedMacro(h, [
        { type: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } }
      ])
      return {
        params: { id },
        check: async (t, res) => {
          t.match(res.body, { runId: Number, macroId: id, status: 'running' })
          await waitFor(() => board.commands.some(c => c.body.action === 'on' && c.body.channel === 1))
          await eventually(
            async () => (await h.app.gateway.services.repos.macros.run(res.body.runId))?.status === 'completed'
          )
          t.match(
            await h.app.gateway.services.repos.macros.run(res.body.runId),
            { status: 'completed', source: 'api', username: /^operator-/ },
            'the run completed, by the API user'
          )
        }
      }
    },
    notFound: unknownMacro,
    conflict: async h => ({ params: { id: await storedMacro(h, [], { enabled: false }) } })
  },
  'macros.cancel': {
    happy: async h => {
      const id = await storedMacro(h, longDelay)
      const { runId } = await h.app.gateway.services.macros.run({ macroId: id, source: 'api' })
      return {
        params: { id },
        check: (t, res) => {
          t.match(res.body, {
            id: runId,
            macroId: id,
            status: 'cancelled',
            message: /^cancelled by operator-/,
            finishedAt: String
          })
          t.equal(h.app.gateway.services.macros.isRunning(id), false, 'no longer running')
        }
      }
    },
    notFound: unknownMacro,
    conflict: async h => ({ params: { id: await storedMacro(h, longDelay) } })
  },
  'macros.runs': {
    happy: async h => {
      const id = await storedMacro(h, [])
      const first = await h.app.gateway.services.macros.run({ macroId: id, source: 'mqtt', user: 'alice' })
      await first.done
      const second = await h.app.gateway.services.macros.run({ macroId: id, source: 'api', user: 'bob' })
      await second.done
      return {
        params: { id },
        query: { limit: 1 },
        check: (t, res) =>
          t.match(res.body, {
            total: 2,
            limit: 1,
            offset: 0,
            items: [
              {
                id: second.runId,
                macroId: id,
                status: 'completed',
                username: 'bob',
                source: 'api',
                currentStep: 0,
                message: null
              }
            ]
          })
      }
    },
    notFound: unknownMacro
  }
}

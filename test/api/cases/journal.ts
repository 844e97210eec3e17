import type { Cases } from './harness.js'

export const journalCases: Cases = {
  'journal.list': {
    happy: async h => {
      const actor = {
        kind: 'user',
        username: 'case-alice',
        role: 'operator',
        via: { transport: 'api', address: '10.0.0.5' }
      } as const
      await h.app.gateway.services.journal.accepted(actor, {
        action: 'relay.on',
        target: 'case-board/3',
        commandId: 'case-command'
      })
      return {
        query: { target: 'case-board/3', action: 'relay.on', since: '0', limit: 10 },
        check: (t, res) => {
          t.equal(res.body.items.length, 1)
          t.match(res.body.items[0], {
            actor: 'case-alice',
            actorKind: 'user',
            role: 'operator',
            transport: 'api',
            address: '10.0.0.5',
            action: 'relay.on',
            target: 'case-board/3',
            params: null,
            outcome: 'accepted',
            errorCode: null,
            commandId: 'case-command'
          })
        }
      }
    }
  }
}

import type { Cases } from './harness.js'

export const eventsCases: Cases = {
  'events.list': {
    happy: async h => {
      const logged = await h.app.gateway.services.events.log({
        level: 'warning',
        type: 'case_event',
        source: 'test',
        action: 'poke',
        target: 'x',
        payload: { n: 1 }
      })
      return {
        query: { type: 'case_event,other', level: 'warning' },
        check: (t, res) => {
          t.same(
            res.body,
            { items: [logged], total: 1, limit: 100, offset: 0, next: null },
            'the item is the published EventMessage'
          )
        }
      }
    }
  }
}

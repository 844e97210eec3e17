import type { Cases } from './harness.js'

export const systemCases: Cases = {
  'system.get': {
    happy: async () => ({
      check: (t, res) => {
        t.match(res.body, { version: String, uptimeS: Number, backups: { supported: true, items: Array } })
        t.ok(res.body.storage.diskFreeBytes > 0, 'disk free of the data dir')
        t.ok(res.body.storage.dbBytes > 0, 'the database has a size')
        t.ok(res.body.host.memory.totalBytes > 0, 'memory')
        t.equal(res.body.host.load.length, 3, 'three load averages')
      }
    })
  },
  'system.backup': {
    happy: async () => ({
      check: async (t, res) => {
        t.match(res.body.name, /^autocore-\d{8}T\d{9}Z\.db$/)
        t.ok(res.body.bytes > 0)
      }
    })
  },
  'system.backupDownload': {
    happy: async h => {
      const made = await h.call('POST', '/system/backups', { token: await h.token('admin') })
      return {
        params: { name: made.body.name },
        check: (t, res) => {
          t.ok(String(res.body).startsWith('SQLite format 3'), 'the backup file itself')
        }
      }
    },
    notFound: async () => ({ params: { name: 'autocore-20000101T000000000Z.db' } })
  }
}

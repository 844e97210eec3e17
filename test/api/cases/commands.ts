import { randomUUID } from 'node:crypto'
import { provisionDevice } from '../../helpers/devices.js'
import type { Cases, Harness } from './harness.js'

async function pendingCommand (h: Harness): Promise<{ uuid: string, commandId: string }> {
  const { uuid } = await provisionDevice(h.app)
  const sent = await h.app.gateway.services.commands.send({
    deviceUuid: uuid,
    command: 'reboot',
    params: { delay: 1 },
    source: 'api',
    username: 'case'
  })
  return { uuid, commandId: sent.commandId }
}

export const commandsCases: Cases = {
  'commands.list': {
    happy: async h => {
      const { uuid, commandId } = await pendingCommand(h)
      return {
        query: { device: uuid, status: 'pending' },
        check: (t, res) =>
          t.match(res.body, {
            total: 1,
            items: [
              {
                commandId,
                deviceUuid: uuid,
                command: 'reboot',
                payload: { delay: 1 },
                status: 'pending',
                source: 'api',
                username: 'case',
                attempts: 0,
                sentAt: null,
                createdAt: /^\d{4}-/,
                expiresAt: /^\d{4}-/
              }
            ]
          })
      }
    }
  },
  'commands.get': {
    happy: async h => {
      const { uuid, commandId } = await pendingCommand(h)
      return {
        params: { id: commandId },
        check: (t, res) =>
          t.match(res.body, { commandId, deviceUuid: uuid, status: 'pending', completedAt: null, latencyMs: null })
      }
    },
    notFound: async () => ({ params: { id: randomUUID() } })
  }
}

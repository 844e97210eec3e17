import type { InboundMessage, PublishVerdict } from '../../broker/pipeline.js'
import type { Services } from '../../services/index.js'
import type { AnnouncePayload } from '../../protocol/index.js'
import { fromItsDevice } from '../sender.js'

/**
 * `autocore/devices/{uuid}/announce` and `.../status` (SPEC §3). Payloads were validated by the payload
 * guard before delivery; only what the device itself published counts.
 */
export function deviceHandlers (ctx: Services): {
  registerPending: (msg: InboundMessage<'deviceAnnounce'>) => PublishVerdict | Promise<PublishVerdict>
  announce: (msg: InboundMessage<'deviceAnnounce'>) => Promise<void>
  status: (msg: InboundMessage<'deviceStatus'>) => Promise<void>
} {
  return {
    /**
     * devices.autoRegister, before the PUBACK: the first announce of an unprovisioned device (connected as `pending`,
     * see auth/authenticate.ts) creates its row as `pending`, with the secret it connected with.
     */
    registerPending: msg => {
      const { principal } = msg
      // Synchronous for every other publish: the common path allocates no promise.
      if (principal?.kind !== 'device' || principal.pending === undefined) return 'deliver'
      return register(ctx, principal.uuid, principal.pending.secretHash, msg.body)
    },
    announce: async msg => {
      if (fromItsDevice(msg)) await announce(ctx, msg.params.uuid, msg.body)
    },
    status: async msg => {
      if (!fromItsDevice(msg)) return
      const { uuid } = msg.params
      ctx.bus.emit('device.status_reported', { uuid, status: msg.body.status, retain: msg.packet.retain })
      // The config version the device has applied (SPEC §3 config): the API shows devices that lag.
      if (msg.body.config_version !== undefined) await ctx.deviceConfig.reportApplied(uuid, msg.body.config_version)
    }
  }
}

async function announce (ctx: Services, uuid: string, body: AnnouncePayload): Promise<void> {
  const device = await ctx.repos.devices.byUuid(uuid)
  if (device === undefined) return
  // A provisioned device's type and capabilities are the admin's (capabilities grant access, e.g.
  // emergency_button); a pending one describes itself for the admin who will approve it.
  const self = device.status === 'pending' ? { type: body.type, capabilities: body.capabilities ?? null } : {}
  await ctx.repos.devices.update(uuid, {
    ...self,
    ...(body.name === undefined ? {} : { name: body.name }),
    ...(body.firmware === undefined ? {} : { firmware: body.firmware }),
    ...(body.ip === undefined ? {} : { ipAddress: body.ip }),
    ...(body.mac === undefined ? {} : { macAddress: body.mac })
  }, ctx.clock.now())
}

async function register (ctx: Services, uuid: string, secretHash: string, body: AnnouncePayload):
Promise<'deliver'> {
  if (await ctx.repos.devices.byUuid(uuid) === undefined) {
    const device = { uuid, name: body.name ?? uuid, type: body.type, secretHash, status: 'pending' as const }
    await ctx.repos.devices.create({ ...device, capabilities: body.capabilities ?? null }, ctx.clock.now())
    const payload = { type: body.type }
    await ctx.events.log({ level: 'info', type: 'device_pending', source: 'mqtt', target: uuid, payload })
  }
  return 'deliver'
}

import type { PublishInterceptor } from '../../broker/hooks.js'
import type { Services } from '../../services/index.js'
import type { InboundMessage, Route } from '../router.js'
import { families, type AnnouncePayload, type DeviceStatusPayload } from '../topics.js'

/**
 * `autocore/devices/{uuid}/announce` and `.../status` (SPEC §3). Payloads were validated by the payload guard
 * before delivery; messages the gateway published itself (no client id) are ignored here.
 */
export function deviceRoutes (ctx: Services): Route[] {
  return [
    { pattern: families.deviceAnnounce, handler: msg => announce(ctx, msg) },
    { pattern: families.deviceStatus, handler: msg => status(ctx, msg) },
    { pattern: families.deviceError, handler: msg => deviceError(ctx, msg) }
  ]
}

/** The code a board reports a tripped dead-man with (README "Gateway heartbeat"). */
export const DEADMAN_TRIPPED = 'deadman_tripped'

/**
 * `autocore/devices/{uuid}/error` `{code, message, ...}` (SPEC §3): an event, level error. A board's dead-man report
 * (`code: "deadman_tripped"`, with the channels it turned off and how long it went without a heartbeat) is its own
 * event type, `deadman_tripped`, level warning: what an owner reads after the gateway was gone.
 */
async function deviceError (ctx: Services, msg: InboundMessage): Promise<void> {
  const uuid = msg.params.uuid
  if (msg.clientId !== uuid) return
  const body = JSON.parse(msg.payload.toString()) as Record<string, unknown>
  const deadman = body.code === DEADMAN_TRIPPED
  await ctx.events.log({
    level: deadman ? 'warning' : 'error',
    type: deadman ? DEADMAN_TRIPPED : 'device_error',
    source: `device:${uuid}`,
    target: uuid,
    payload: body
  })
}

async function announce (ctx: Services, msg: InboundMessage): Promise<void> {
  const uuid = msg.params.uuid
  if (msg.clientId !== uuid) return
  const body = JSON.parse(msg.payload.toString()) as AnnouncePayload
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

async function status (ctx: Services, msg: InboundMessage): Promise<void> {
  const uuid = msg.params.uuid
  if (msg.clientId !== uuid) return
  const body = JSON.parse(msg.payload.toString()) as DeviceStatusPayload
  ctx.bus.emit('device.status_reported', { uuid, status: body.status, retain: msg.retain })
  // The config version the device has applied (SPEC §3 config): the API shows devices that lag.
  if (body.config_version !== undefined) await ctx.deviceConfig.reportApplied(uuid, body.config_version)
}

/**
 * devices.autoRegister: the first announce of an unprovisioned device (connected as `pending`, see
 * auth/authenticate.ts) creates its row as `pending`, with the secret it connected with, before the PUBACK.
 */
export function pendingAnnounce (ctx: Services): PublishInterceptor {
  // Synchronous for every other publish: the common path allocates no promise.
  return (principal, packet, _client, info) => {
    if (principal.kind !== 'device' || principal.pending === undefined) return 'deliver'
    if (info.topic?.family !== 'deviceAnnounce') return 'deliver'
    // The payload guard, earlier in the pipeline, has validated the announce and kept its JSON value.
    const body = (info.body ?? JSON.parse((packet.payload as Buffer).toString())) as AnnouncePayload
    return register(ctx, principal.uuid, principal.pending.secretHash, body)
  }
}

async function register (ctx: Services, uuid: string, secretHash: string, body: AnnouncePayload): Promise<'deliver'> {
  if (await ctx.repos.devices.byUuid(uuid) === undefined) {
    await ctx.repos.devices.create(
      {
        uuid,
        name: body.name ?? uuid,
        type: body.type,
        secretHash,
        status: 'pending',
        capabilities: body.capabilities ?? null
      },
      ctx.clock.now()
    )
    await ctx.events.log({
      level: 'info',
      type: 'device_pending',
      source: 'mqtt',
      target: uuid,
      payload: { type: body.type }
    })
  }
  return 'deliver'
}

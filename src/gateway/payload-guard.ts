import type { PublishInterceptor } from '../broker/hooks.js'
import type { AppContext } from '../context.js'
import { checkPayload, NOT_JSON } from './schemas.js'
import { familyTopic, parseTopic, type GatewayErrorPayload } from './topics.js'

/**
 * The publish-pipeline step for SPEC §3's second kind of refusal: a payload over mqtt.maxPayloadBytes, not
 * JSON, or failing its family's schema is acknowledged, delivered to nobody, retained nowhere, reported on
 * the bus (mqtt.payload_invalid) and, for a device, explained on `autocore/devices/{uuid}/error/gateway`.
 */
export function payloadGuard (ctx: Pick<AppContext, 'config' | 'bus' | 'broker' | 'log'>): PublishInterceptor {
  const max = ctx.config.mqtt.maxPayloadBytes
  const log = ctx.log.child({ module: 'payload-guard' })
  return (principal, packet, client) => {
    const payload = packet.payload as Buffer
    let code: GatewayErrorPayload['code'] | undefined
    let reason: string | undefined
    if (payload.length > max) {
      code = 'GW_ERR_MQTT_PAYLOAD_TOO_LARGE'
      reason = `payload of ${payload.length} bytes exceeds ${max}`
    } else {
      const parsed = parseTopic(packet.topic)
      if (parsed !== undefined) reason = checkPayload(parsed.family, payload)
      if (reason !== undefined) code = 'GW_ERR_MQTT_PAYLOAD_INVALID'
    }
    if (reason === undefined || code === undefined) return 'deliver'
    const deviceUuid = principal.kind === 'device' ? principal.uuid : undefined
    const kind = code === 'GW_ERR_MQTT_PAYLOAD_TOO_LARGE' ? 'too_large' : reason === NOT_JSON ? 'not_json' : 'schema'
    ctx.bus.emit('mqtt.payload_invalid', { clientId: client.id, topic: packet.topic, reason, deviceUuid, kind })
    if (deviceUuid !== undefined) {
      const body: GatewayErrorPayload = { code, message: reason, topic: packet.topic }
      ctx.broker.publish(familyTopic('deviceGatewayError', { uuid: deviceUuid }), body, { qos: 1 })
        .catch(err => log.error({ err, deviceUuid }, 'error report not published'))
    }
    return { drop: reason }
  }
}

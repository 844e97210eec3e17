import type { Step } from '../broker/pipeline.js'
import type { Services } from '../services/index.js'
import { familyTopic, type GatewayErrorPayload, type ParsedTopic } from '../protocol/index.js'
import { checkPayload, NOT_JSON } from '../protocol/validate.js'

/** The payload guard's decision alone (size, JSON, schema), for a will checked at CONNECT: a reason refuses. */
export function payloadRefusal (maxBytes: number, topic: ParsedTopic | undefined, payload: Buffer): string | undefined {
  if (payload.length > maxBytes) return `payload of ${payload.length} bytes exceeds ${maxBytes}`
  return topic === undefined ? undefined : checkPayload(topic.family, payload)
}

/**
 * The inbound step for SPEC §3's second kind of refusal: a payload over mqtt.maxPayloadBytes, not JSON, or failing
 * its family's schema is acknowledged, delivered to nobody, retained nowhere, reported on the bus
 * (mqtt.payload_invalid) and, for a device, explained on `autocore/devices/{uuid}/error/gateway`.
 * A valid payload's JSON value is left in the message (`body`) for the steps and the handler after this one.
 */
export function payloadGuard (ctx: Pick<Services, 'config' | 'bus' | 'broker' | 'log'>): Step {
  const max = ctx.config.mqtt.maxPayloadBytes
  const log = ctx.log.child({ module: 'payload-guard' })
  return msg => {
    const { packet, principal } = msg
    const payload = packet.payload as Buffer
    let code: GatewayErrorPayload['code'] | undefined
    let reason: string | undefined
    if (payload.length > max) {
      code = 'GW_ERR_MQTT_PAYLOAD_TOO_LARGE'
      reason = `payload of ${payload.length} bytes exceeds ${max}`
    } else {
      if (msg.family !== undefined) reason = checkPayload(msg.family, payload, msg)
      if (reason !== undefined) code = 'GW_ERR_MQTT_PAYLOAD_INVALID'
    }
    if (reason === undefined || code === undefined) return 'deliver'
    const deviceUuid = principal?.kind === 'device' ? principal.uuid : undefined
    const kind = code === 'GW_ERR_MQTT_PAYLOAD_TOO_LARGE' ? 'too_large' : reason === NOT_JSON ? 'not_json' : 'schema'
    const clientId = msg.client?.id ?? ''
    ctx.bus.emit('mqtt.payload_invalid', { clientId, topic: packet.topic, reason, deviceUuid, kind })
    if (deviceUuid !== undefined) {
      const body: GatewayErrorPayload = { code, message: reason, topic: packet.topic }
      ctx.broker.publish(familyTopic('deviceGatewayError', { uuid: deviceUuid }), body, { qos: 1 })
        .catch(err => log.error({ err, deviceUuid }, 'error report not published'))
    }
    return { drop: reason }
  }
}

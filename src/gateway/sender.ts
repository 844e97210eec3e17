import { GATEWAY, senderActor, type Actor } from '../auth/actor.js'
import type { InboundPublish } from '../broker/pipeline.js'

/** Who acts through a publish: its sender's principal (and connection), or the gateway for its own publishes. */
export function actorOf (msg: InboundPublish): Actor {
  if (msg.principal === undefined) return GATEWAY
  return senderActor(msg.principal, msg.client)
}

/**
 * Did the device the topic names publish it over its own connection (its UUID as client id)? Not the gateway's own
 * publish (the presence service republishes a device's retained status), nor one made under another client id.
 */
export function fromItsDevice (msg: InboundPublish & { params: { uuid: string } }): boolean {
  return msg.client !== undefined && msg.client.id === msg.params.uuid
}

import type { AclAction, AclDecision, Principal } from './principal.js'

/**
 * The access decision for one publish or subscribe, a pure function. Until the access rules of SPEC §3 land,
 * every authenticated principal may use every topic except the broker's own: `$SYS` is the broker's to publish
 * (aedes#597: a client publishing there can flood every $SYS subscriber), and `$autocore` is the gateway's.
 */
export function authorize (_principal: Principal, action: AclAction, topic: string, _retain = false): AclDecision {
  if (topic.startsWith('$autocore')) return { allow: false, reason: '$autocore topics are reserved' }
  if (action === 'publish' && topic.startsWith('$SYS')) return { allow: false, reason: '$SYS topics are reserved' }
  return { allow: true }
}

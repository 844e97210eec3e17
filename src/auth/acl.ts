import type { AclAction, AclDecision, Principal } from './principal.js'

/**
 * The access decision for one publish or subscribe, a pure function. Until the access rules of SPEC §3 land,
 * every authenticated principal may use every topic; the hooks already route every packet through here.
 */
export function authorize (_principal: Principal, _action: AclAction, _topic: string, _retain = false): AclDecision {
  return { allow: true }
}

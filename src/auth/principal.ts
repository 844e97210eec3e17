/** Who is on the other end of an MQTT connection, decided once at CONNECT. */
export type Principal =
  | { kind: 'anonymous', clientId: string }
  | { kind: 'health', clientId: string, username: string }

export type ConnackRefusal = 2 | 4 | 5

export type AuthDecision =
  | { ok: true, principal: Principal }
  | { ok: false, returnCode: ConnackRefusal, reason: string }

export type AclAction = 'publish' | 'subscribe'

export type AclDecision = { allow: true } | { allow: false, reason: string }

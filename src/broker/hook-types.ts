import type { AedesOptions, Client, PublishPacket } from 'aedes'
import type { AuthOutcome, Credentials } from '../auth/authenticate.js'
import type { AclRule } from '../auth/acl.js'
import type { Principal } from '../auth/principal.js'
import type { ParsedTopic } from '../protocol/index.js'
import type { EventBus } from '../events.js'
import type { Logger } from '../log.js'
import type { Inbound, InboundPublish } from './pipeline.js'

export interface BrokerHooks {
  hooks: Pick<AedesOptions,
  'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>
  principalOf: (client: Client) => Principal | undefined
  /**
   * Sets the steps every client publish goes through after the access decision, and which families a handler
   * takes after delivery (gateway/inbound.ts); until then an allowed publish is delivered as it is.
   */
  useInbound: (inbound: Inbound) => void
  /** The publish a client made, as its steps saw it, once they all let it through (for the handlers after delivery). */
  deliveredPublish: (packet: PublishPacket) => InboundPublish | undefined
  /**
   * The subscriptions of a SUBSCRIBE that may be stored in a persistent session: those granted and not stored yet.
   * Aedes stores the whole packet's list once per granted filter (lib/handlers/subscribe.js storeSubscriptions):
   * refused filters too, and N² writes for N filters. broker.ts routes the store's addSubscriptions through this.
   */
  storable: <S extends object>(subs: readonly S[]) => S[]
  /**
   * May a message on `topic` be queued for the offline persistent session `clientId`? Decided with the identity that
   * last held the session (its delivery is authorized again when it comes back); true for a session this process
   * has not seen (from before a restart).
   */
  queueable: (clientId: string, topic: string) => boolean
  /** Forgets a deleted session's identity. */
  forgetSession: (clientId: string) => void
  /** The store restored subscriptions are removed from when they are refused (broker.ts sets it). */
  useStore: (store: SubscriptionStore) => void
  /** How often each session limit refused something, for /metrics (autocore_mqtt_limit_refusals_total). */
  readonly refusals: Record<LimitName, number>
}

export interface SubscriptionStore {
  removeSubscriptions: (client: Pick<Client, 'id'>, topics: string[]) => Promise<unknown> | unknown
}

/** The session-layer limits (config mqtt.*), each counted in refusals when it refuses. */
export type LimitName = 'filters_per_subscribe' | 'subscriptions_per_client' | 'client_id_length' | 'client_id_owner' |
'will' | 'queued_messages' | 'session_expired'

export interface HookLimits {
  readonly maxClientIdLength: number
  readonly maxFiltersPerSubscribe: number
  readonly maxSubscriptionsPerClient: number
}

/** Marks a will with the identity that set it, so a will published after an unclean restart is its owner's publish. */
export const WILL_OWNER = 'autocoreOwner'

export interface HookDeps {
  /** The CONNECT decision (auth/authenticate.ts); may be async, must not throw (a throw refuses with 5). */
  authenticate: (creds: Credentials) => AuthOutcome | Promise<AuthOutcome>
  /** config acl.rules, for topics outside autocore/. */
  aclRules: readonly AclRule[]
  /** Refusals are reported as bus events (mqtt.auth_failed, mqtt.acl_denied); services log and record them. */
  bus: EventBus
  log: Logger
  limits: HookLimits
  /** Is this client id a provisioned device's UUID? (Only that device may use it.) */
  isDeviceId: (clientId: string) => boolean | Promise<boolean>
  /** The payload checks of a publish (SPEC §3: size, JSON, schema), applied to a will at CONNECT; a reason refuses. */
  checkWillPayload: (topic: ParsedTopic | undefined, payload: Buffer) => string | undefined
  /**
   * Does the identity a will was stored with still hold (device or user not deleted, disabled, re-roled)? Asked when
   * the will is published, which may be long after the CONNECT (an unclean restart).
   */
  willOwnerValid: (owner: Principal) => boolean | Promise<boolean>
}

/** Per connection: what it subscribed to (for the per-client limit) and what it may read (cached per topic). */
export interface ClientState {
  readonly filters: Set<string>
  readonly reads: Map<string, boolean>
  /** Set once authenticated. */
  principal?: Principal
}

/** The peer address of a TCP client, or of the HTTP request a WebSocket client came in on. */
export function remoteAddressOf (client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string }).remoteAddress ?? client.req?.socket?.remoteAddress
}

/** Reports a refused publish or subscribe on the bus (mqtt.acl_denied). */
export type Denied = (
  client: Pick<Client, 'id'>, principal: Principal | undefined, action: 'publish' | 'subscribe', topic: string,
  reason: string
) => void

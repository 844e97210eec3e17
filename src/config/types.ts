// The shape of src/config/schema.json. test/config/loader.test.ts checks that every schema key appears in
// the shipped defaults, so a key added to the schema without a type here fails the type-check where it is used.
export interface Config {
  readonly gatewayId: string
  readonly gateway: { readonly heartbeatMs: number, readonly deadmanMisses: number }
  readonly dataDir: string
  readonly log: {
    readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    readonly pretty: 'auto' | 'always' | 'never'
  }
  readonly mqtt: {
    readonly host: string
    readonly port: number
    readonly wsPath: string
    readonly allowAnonymous: boolean
    readonly connectTimeoutMs: number
    readonly maxQueuedBytes: number
    readonly heartbeatIntervalMs: number
    readonly maxTopicLevels: number
    readonly maxInflightInbound: number
    readonly concurrency: number
    readonly maxClientIdLength: number
    readonly maxFiltersPerSubscribe: number
    readonly maxSubscriptionsPerClient: number
    readonly maxQueuedMessagesPerSession: number
    readonly sessionExpiryMs: number
    readonly maxPayloadBytes: number
    readonly maxPacketBytes: number
    readonly maxConnectBytes: number
  }
  readonly http: { readonly host: string, readonly port: number }
  readonly tls: {
    readonly mqtt: { readonly enabled: boolean, readonly host: string, readonly port: number }
    readonly https: { readonly enabled: boolean, readonly host: string, readonly port: number }
    readonly hostnames: readonly string[]
    readonly certFile: string
    readonly keyFile: string
    readonly caFile: string
    readonly caDays: number
    readonly serverCertDays: number
    readonly renewBeforeDays: number
    readonly renewCheckIntervalMs: number
    readonly clientCertDays: number
  }
  readonly database: {
    readonly type: 'sqlite' | 'postgres'
    readonly url: string
    readonly file: string
    readonly synchronous: 'FULL' | 'NORMAL'
  }
  readonly health: { readonly username: string, readonly token: string }
  readonly shutdown: { readonly timeoutMs: number }
  readonly backup: {
    readonly enabled: boolean
    readonly intervalMs: number
    readonly keep: number
    readonly dir: string
  }
  readonly telemetry: {
    readonly batchSize: number
    readonly flushIntervalMs: number
    readonly maxBuffered: number
    readonly maxPayloadKeys: number
    readonly rawRetentionDays: number
    readonly aggregateRetentionDays: number
    readonly retentionIntervalMs: number
    readonly retentionChunkRows: number
    readonly chunkStore: boolean
  }
  readonly events: { readonly retentionDays: number, readonly auditRowsPerMinute: number }
  readonly journal: { readonly retentionDays: number }
  readonly commands: { readonly ackTimeoutMs: number, readonly maxAttempts: number, readonly ttlMs: number }
  readonly relays: { readonly defaultHoldMs: number, readonly maxHoldMs: number, readonly defaultPulseMs: number }
  readonly macros: { readonly publishTopics: readonly string[] }
  readonly auth: {
    readonly jwtExpiresInS: number
    readonly maxFailedAttempts: number
    readonly failureWindowMs: number
    readonly penaltyMs: number
    readonly sessionRecheckMs: number
  }
  readonly devices: { readonly autoRegister: boolean, readonly offlineAfterS: number }
  readonly acl: { readonly rules: readonly AclRule[] }
  readonly metrics: { readonly token: string }
  readonly webhooks: {
    readonly timeoutMs: number
    readonly maxAttempts: number
    readonly baseDelayMs: number
    readonly maxDelayMs: number
    readonly concurrency: number
    readonly breakerThreshold: number
    readonly breakerCooldownMs: number
  }
}

/** One entry of config `acl.rules`, for topics outside `autocore/` (Mosquitto-style %c / %u substitution). */
export interface AclRule {
  readonly effect: 'allow' | 'deny'
  readonly action: 'publish' | 'subscribe' | 'both'
  /** A topic filter; `%c` is replaced by the client id, `%u` by the username. */
  readonly topic: string
  /** Role the rule is for: viewer, operator, admin, device, health, anonymous; absent = everyone. */
  readonly role?: string
  /** Username the rule is for; absent = everyone. */
  readonly user?: string
  /** Client id glob (`*` = any run of characters) the rule is for; absent = everyone. */
  readonly client?: string
}

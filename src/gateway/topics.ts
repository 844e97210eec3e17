/**
 * The only place topic strings are built or parsed. Everything under the `autocore/` prefix of SPEC §3.
 */
export const PREFIX = 'autocore'

export const topics = {
  gatewayStatus: (gatewayId: string) => `${PREFIX}/gateway/${gatewayId}/status`,
  /** The health identity's private echo topic (`autocore-gateway health` publishes and expects its message back). */
  health: (clientId: string) => `${PREFIX}/health/${clientId}`
} as const

export interface GatewayStatusPayload {
  status: 'online' | 'offline'
  version: string
  started_at: string
}

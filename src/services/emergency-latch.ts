/** What `system_status.emergency` holds (SPEC §4 Emergency stop). */
export interface EmergencyRecord {
  active: boolean
  reason: string | null
  source: string | null
  /** ISO time the stop was triggered; null when never triggered. */
  since: string | null
  username?: string | null
  reset_by?: string | null
  reset_at?: string | null
  /**
   * Per relay board: did it acknowledge its off-commands ('acked') or not ('pending', 'failed', 'timeout', 'expired')?
   */
  roll_call: Record<string, 'pending' | 'acked' | 'failed' | 'timeout' | 'expired'>
}

export const inactiveRecord = (): EmergencyRecord => ({
  active: false,
  reason: null,
  source: null,
  since: null,
  roll_call: {}
})

/**
 * The emergency state in memory, shared by the relay and macro services (their lockout check) and written only by
 * the emergency service. Constructed before them, so none of them depends on another's fields.
 */
export class EmergencyLatch {
  record: EmergencyRecord = inactiveRecord()
  get active (): boolean { return this.record.active }
}

/** One minute: the window audit rows are counted in (events.auditRowsPerMinute). */
export const AUDIT_WINDOW_MS = 60_000

/** What was held back in one window for one identity and row type: summed into one row when the window closes. */
export interface HeldBack { identity: string, type: string, suppressed: number, target?: string, username?: string }

/**
 * At most `perWindow` audit rows per identity (a username, or an address or client id when there is none) per
 * window, over every row type: a loop of connect + forbidden publish otherwise writes hundreds of rows a second,
 * kept for `events.retentionDays` (#13). What is held back is counted per identity and type and handed out by
 * `close()`, which the owner calls at the end of each window. Past `maxIdentities` identities in one window, new
 * ones share one entry, so memory stays bounded whatever the number of names an attacker makes up.
 */
export class AuditCap {
  private readonly written = new Map<string, number>()
  private readonly held = new Map<string, HeldBack>()

  constructor (private readonly perWindow: number, private readonly maxIdentities = 10_000) {}

  /** True when this row may be written now; else it is counted into the identity's summary. */
  take (identity: string, type: string, about: { target?: string, username?: string } = {}): boolean {
    const key = this.written.has(identity) || this.written.size < this.maxIdentities ? identity : '*'
    const n = this.written.get(key) ?? 0
    if (n < this.perWindow) {
      this.written.set(key, n + 1)
      return true
    }
    const heldKey = `${type}\u0000${key}`
    const h = this.held.get(heldKey)
    if (h !== undefined) h.suppressed++
    else this.held.set(heldKey, { identity: key, type, suppressed: 1, ...about })
    return false
  }

  /** Ends the window: what was held back in it, and a fresh count for the next. */
  close (): HeldBack[] {
    const out = [...this.held.values()]
    this.held.clear()
    this.written.clear()
    return out
  }
}

/** Display helpers: times on the gateway's clock, values with sensible precision. */

export function ago (iso: string | null, now: number): string {
  if (iso === null) return 'never'
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (!Number.isFinite(s)) return 'unknown'
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

const pad = (n: number): string => String(n).padStart(2, '0')

/** HH:MM:SS in the browser's time zone; the date too when it is not today. */
export function clock (iso: string | number, now: number): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return String(iso)
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  return new Date(now).toDateString() === d.toDateString()
    ? time
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`
}

export function value (v: number | boolean | string): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off'
  if (typeof v === 'string') return v
  if (Number.isInteger(v)) return String(v)
  const abs = Math.abs(v)
  return v.toFixed(abs >= 100 ? 1 : abs >= 1 ? 2 : 3)
}

/** A payload in one short line for the events feed. */
export function summary (payload: Record<string, unknown> | null): string {
  if (payload === null) return ''
  return Object.entries(payload)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ')
}

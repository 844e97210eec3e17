import type { HealthReport } from '../api/routes/health.js'

/**
 * What `health --warn/--crit` can put a threshold on, read from the /health report. A measure whose part the
 * report does not have (yet) reads undefined and prints `n/a`; it never trips. Other parts of the gateway add
 * their measure here when they add their part to /health.
 */
export interface Measure {
  name: string
  unit: 'bytes' | 'ms' | 'flag'
  /** 'below': low values are bad (free space); 'above': high values are bad (age, lag, size). */
  bad: 'below' | 'above'
  read: (r: HealthReport) => number | undefined
}

/** A report from another build may lack a part: each measure reads it as possibly absent. */
type Parts = Partial<HealthReport>

export const measures: Measure[] = [
  { name: 'disk-free', unit: 'bytes', bad: 'below', read: r => r.storage?.diskFreeBytes },
  { name: 'db-size', unit: 'bytes', bad: 'above', read: r => r.storage?.dbBytes ?? undefined },
  // No backup at all is as old as a backup can be.
  {
    name: 'backup-age',
    unit: 'ms',
    bad: 'above',
    read: r => (r.backup === undefined ? undefined : r.backup.ageS === null ? Infinity : r.backup.ageS * 1000)
  },
  // The age of the oldest reading accepted and not yet committed.
  { name: 'writer-lag', unit: 'ms', bad: 'above', read: r => (r as Parts).telemetry?.lagMs },
  {
    name: 'emergency',
    unit: 'flag',
    bad: 'above',
    read: r => {
      const a = (r as Parts).emergency?.active
      return a === undefined ? undefined : a ? 1 : 0
    }
  }
]

const SIZE: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 }
const TIME: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

function parseValue (m: Measure, raw: string): number {
  if (m.unit === 'flag') {
    if (/^(on|true|1|active)$/i.test(raw)) return 0.5
    throw new Error(`${m.name} takes "on" (trips while active), not "${raw}"`)
  }
  const units = m.unit === 'bytes' ? SIZE : TIME
  const match = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(raw.trim())
  const factor = match === null ? undefined : (match[2] === '' ? 1 : units[match[2].toLowerCase()])
  if (match === null || factor === undefined) {
    throw new Error(`${m.name}=${raw}: expected a number with one of ${Object.keys(units).join(', ')}`)
  }
  return Number(match[1]) * factor
}

/** `disk-free=500MB,backup-age=26h` → threshold per measure name. Unknown names and bad values throw. */
export function parseThresholds (spec: string | undefined): Map<string, number> {
  const out = new Map<string, number>()
  if (spec === undefined || spec.trim() === '') return out
  for (const item of spec.split(',')) {
    const [name, raw = 'on'] = item.split('=').map(s => s.trim())
    const m = measures.find(x => x.name === name)
    if (m === undefined) throw new Error(`unknown measure "${name}" (known: ${measures.map(x => x.name).join(', ')})`)
    out.set(name, parseValue(m, raw))
  }
  return out
}

export function formatValue (m: Measure, v: number | undefined): string {
  if (v === undefined) return 'n/a'
  if (v === Infinity) return m.unit === 'ms' ? 'never' : 'inf'
  if (m.unit === 'flag') return v > 0 ? 'active' : 'off'
  if (m.unit === 'bytes') {
    const [u, f] = Object.entries(SIZE).reverse().find(([, f]) => v >= f) ?? ['b', 1]
    return `${(v / f).toFixed(u === 'b' ? 0 : 1)}${u.toUpperCase()}`
  }
  const [u, f] = Object.entries(TIME).reverse().find(([, f]) => v >= f) ?? ['ms', 1]
  return `${(v / f).toFixed(u === 'ms' ? 0 : 1)}${u}`
}

function trips (m: Measure, v: number | undefined, limit: number | undefined): boolean {
  if (v === undefined || limit === undefined) return false
  return m.bad === 'below' ? v < limit : v > limit
}

export interface Evaluation {
  /** 0 OK, 1 WARNING, 2 CRITICAL (Nagios plugin exit codes). */
  state: 0 | 1 | 2
  values: Record<string, number | null>
  text: string[]
  perf: string[]
}

/** Reads every measure and compares it with its thresholds. */
export function evaluate (
  report: HealthReport | undefined,
  warn: Map<string, number>,
  crit: Map<string, number>
): Evaluation {
  const out: Evaluation = { state: 0, values: {}, text: [], perf: [] }
  for (const m of measures) {
    const v = report === undefined ? undefined : m.read(report)
    out.values[m.name] = v === undefined || v === Infinity ? null : v
    let note = ''
    if (trips(m, v, crit.get(m.name))) {
      out.state = 2
      note = ` (critical ${m.bad === 'below' ? '<' : '>'} ${formatValue(m, crit.get(m.name))})`
    } else if (trips(m, v, warn.get(m.name))) {
      if (out.state === 0) out.state = 1
      note = ` (warning ${m.bad === 'below' ? '<' : '>'} ${formatValue(m, warn.get(m.name))})`
    }
    out.text.push(`${m.name} ${formatValue(m, v)}${note}`)
    if (v !== undefined && v !== Infinity) {
      const scale = m.unit === 'ms' ? 1000 : 1
      const uom = m.unit === 'bytes' ? 'B' : m.unit === 'ms' ? 's' : ''
      const lim = (map: Map<string, number>): string =>
        map.has(m.name) ? String(Math.round((map.get(m.name) as number) / scale)) : ''
      out.perf.push(`${m.name.replace('-', '_')}=${Math.round(v / scale)}${uom};${lim(warn)};${lim(crit)}`)
    }
  }
  return out
}

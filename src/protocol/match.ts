/**
 * The one MQTT topic-filter matcher. Levels are split on '/'; '+' matches one level, '#' the rest (including the
 * parent level, [MQTT-4.7.1-2]); a topic starting with '$' is not matched by a filter starting with a wildcard
 * [MQTT-4.7.2-1]. A concrete topic is a filter without wildcards, so `covers(filter, topic)` is "does it match".
 */
function dollarGuard (filter: string, other: string): boolean {
  return other.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))
}

/** Does `allowed` match every topic `requested` can match? (A concrete topic is a filter without wildcards.) */
export function covers (allowed: string, requested: string): boolean {
  if (dollarGuard(allowed, requested)) return false
  const a = allowed.split('/')
  const r = requested.split('/')
  for (let i = 0; ; i++) {
    if (a[i] === '#') return true
    if (i >= a.length || i >= r.length) return a.length === r.length
    if (r[i] === '#') return false
    if (a[i] === '+') continue
    if (a[i] !== r[i]) return false
  }
}

/** Can some topic match both filters? */
export function intersects (x: string, y: string): boolean {
  if (dollarGuard(x, y) || dollarGuard(y, x)) return false
  const a = x.split('/')
  const b = y.split('/')
  for (let i = 0; ; i++) {
    if (a[i] === '#' || b[i] === '#') return true
    if (i >= a.length || i >= b.length) return a.length === b.length
    if (a[i] === '+' || b[i] === '+' || a[i] === b[i]) continue
    return false
  }
}

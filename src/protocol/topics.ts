import { families, PREFIX, type TopicFamily } from './families.js'

/** The names of a pattern's `:name` levels. */
type ParamNames<P extends string> =
  P extends `${string}:${infer N}/${infer R}` ? N | ParamNames<R> : P extends `${string}:${infer N}` ? N : never

/** The parameters of a family's topics (`deviceStatus` → `{ uuid }`; `configTheme` → `{}`). */
export type TopicParams<F extends TopicFamily> = { readonly [K in ParamNames<(typeof families)[F]['pattern']>]: string }

/**
 * The concrete topic of a family with every parameter given: `topicOf('deviceStatus', { uuid })`. A parameter must
 * be one non-empty level (no '/', '+' or '#'), which callers guarantee (uuids, ids): it is not checked here.
 */
export function topicOf<F extends TopicFamily> (
  family: F, ...params: {} extends TopicParams<F> ? [] : [TopicParams<F>]
): string {
  return fill(family, params[0] ?? {})
}

/** A family's pattern with its parameters filled in; parameters not given become the `+` wildcard (a filter). */
export function familyTopic<F extends TopicFamily> (family: F, params: Partial<TopicParams<F>> = {}): string {
  return fill(family, params)
}

function fill (family: TopicFamily, params: Record<string, string | undefined>): string {
  return families[family].pattern.split('/').map(s => s.startsWith(':') ? (params[s.slice(1)] ?? '+') : s).join('/')
}

// Families indexed by level count and second level, so a publish compares against two or three patterns, not all.
// Each pattern level is its literal, or the parameter's name (`param`) for a `:name` level.
interface IndexedFamily { name: TopicFamily, levels: Array<{ literal?: string, param?: string }> }
const familyIndex = new Map<string, IndexedFamily[]>()
for (const [name, { pattern }] of Object.entries(families)) {
  const segments = pattern.split('/')
  const key = `${segments.length}/${segments[1]}`
  const levels = segments.map(s => s.startsWith(':') ? { param: s.slice(1) } : { literal: s })
  familyIndex.set(key, [...(familyIndex.get(key) ?? []), { name: name as TopicFamily, levels }])
}

/** Called for every client publish: compares every level before it allocates the parameters of a match. */
function matchLevels (f: IndexedFamily, levels: string[]): Record<string, string> | undefined {
  for (let i = 0; i < levels.length; i++) {
    const { literal } = f.levels[i]
    if (literal === undefined) {
      if (levels[i] === '' || levels[i] === '+' || levels[i] === '#') return undefined
    } else if (literal !== levels[i]) {
      return undefined
    }
  }
  const params: Record<string, string> = {}
  for (let i = 0; i < levels.length; i++) {
    const { param } = f.levels[i]
    if (param !== undefined) params[param] = levels[i]
  }
  return params
}

/** A concrete topic's SPEC §3 family and the values of its named levels. */
export interface ParsedTopic { family: TopicFamily, params: Readonly<Record<string, string>> }

/** Which family a concrete topic belongs to, with its parameters; undefined outside SPEC §3. */
export function parseTopic (topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(PREFIX + '/')) return undefined
  const levels = topic.split('/')
  for (const f of familyIndex.get(`${levels.length}/${levels[1]}`) ?? []) {
    const params = matchLevels(f, levels)
    if (params !== undefined) return { family: f.name, params }
  }
  return undefined
}

/** Device ids the gateway accepts: RFC 4122 UUIDs and the short ids of the original notes (`esp32-001`). */
export const DEVICE_ID =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z0-9][a-z0-9-]{2,63})$/

/** Topics only the gateway itself may produce from its own logic (commands, emergency): never macro output. */
export const gatewayOnlyFilters = [
  familyTopic('deviceCommand'), familyTopic('relayCommand'), `${PREFIX}/emergency/#`, familyTopic('macroRun')
] as const

import { globMatches } from './glob.js'
import { roleOf, usernameOf, type AclAction, type AclDecision, type Principal } from './principal.js'
import {
  covers, families, familyTopic, intersects, parseTopic, PREFIX, subtrees,
  type ParsedTopic, type Publisher, type Reader, type TopicFamily
} from '../protocol/index.js'
import type { AclRule } from '../config/types.js'

export type { AclRule }

const ALLOW: AclDecision = { allow: true }
const deny = (reason: string): AclDecision => ({ allow: false, reason })

// The access columns of the family table (protocol/families.ts), as the sets and filters the decisions below use.
const table = Object.entries(families) as Array<[TopicFamily, (typeof families)[TopicFamily]]>
const publishedBy = (who: Publisher): Set<TopicFamily> =>
  new Set(table.filter(([, f]) => (f.publish as readonly Publisher[]).includes(who)).map(([name]) => name))
const readers: Reader[] = ['owner', 'pending', 'devices', 'display', 'users', 'health', 'healthOwner']
/** Per reader: the subtrees it reads, and the families it reads outside them. */
const reads = new Map(readers.map(who => {
  const trees = subtrees.filter(s => s.read.includes(who)).map(s => s.filter)
  const own = table.filter(([, f]) => (f.read as readonly Reader[]).includes(who)).map(([name]) => name)
  return [who, { trees, own: own.filter(f => !trees.some(tree => covers(tree, familyTopic(f)))) }]
}))
/** A reader's filters: its subtrees, then its families' filters (`params` fill the named levels, else `+`). */
const filtersOf = (who: Reader, params: Record<string, string> = {}): string[] => {
  const { trees, own } = reads.get(who) as { trees: string[], own: TopicFamily[] }
  return [...trees, ...own.map(f => familyTopic(f, params))]
}

/** What a device publishes under its own UUID (SPEC §3, device → gateway). */
const DEVICE_PUBLISH = publishedBy('device')
/** The only topics a device may retain. */
const DEVICE_RETAIN = new Set(table.filter(([, f]) => 'deviceRetains' in f).map(([name]) => name))
/** What a device that is not yet approved may publish. */
const PENDING_PUBLISH = publishedBy('pending')
const BUTTON_PUBLISH = publishedBy('emergencyButton')
const OPERATOR_PUBLISH = publishedBy('operator')
const HEALTH_PUBLISH = publishedBy('health')

const SHARED_SUBSCRIBE = filtersOf('devices')
const DISPLAY_SUBSCRIBE = filtersOf('display')
/** What users of every role may read: everything in SPEC §3 except command topics, panel requests and health. */
const USER_SUBSCRIBE = filtersOf('users')
const HEALTH_SUBSCRIBE = filtersOf('health')

/**
 * The access decision for one publish or subscribe (SPEC §3), a pure function. Inside `autocore/` the built-in
 * rules below decide; outside it, config `acl.rules` in order, first match wins, default deny. `$autocore` is
 * the gateway's; `$SYS` is the broker's to publish (aedes#597) and only admins read it.
 *
 * Subscriptions follow Mosquitto: a filter is granted when the identity may read at least one topic it covers
 * (`#` for a viewer is granted), and every message is then forwarded only if mayRead() allows its topic (the
 * broker's authorizeForward). A filter that covers nothing readable is refused (SUBACK 0x80).
 */
export function authorize (
  principal: Principal, action: AclAction, topic: string, retain = false, rules: readonly AclRule[] = []
): AclDecision {
  if (action === 'publish') return authorizePublish(principal, topic, retain, rules, parseTopic(topic))
  if (topic.startsWith('$autocore')) return deny('$autocore topics are reserved')
  if (principal.kind === 'user' && principal.role === 'admin') return ALLOW
  if (topic.startsWith('$')) return deny(`only admins may subscribe to ${topic}`)
  if (intersects(INSIDE, topic) && subscribeFilters(principal).some(f => intersects(f, topic))) return ALLOW
  // The part of the filter outside autocore/ (all of it for most filters, some of it for '#' or '+/x').
  if (!covers(INSIDE, topic) && byRules(principal, action, topic, rules).allow) return ALLOW
  return deny('subscription not allowed for this identity')
}

/**
 * May this identity receive a message on this topic (a topic name, no wildcards)? The decision for every delivery:
 * live, queued for an offline session, retained on subscribe and wills (the broker's authorizeForward).
 */
export function mayRead (principal: Principal, topic: string, rules: readonly AclRule[] = []): boolean {
  if (topic.startsWith('$autocore')) return false
  if (principal.kind === 'user' && principal.role === 'admin') return true
  if (topic.startsWith('$')) return false
  if (topic.startsWith(PREFIX + '/')) return subscribeFilters(principal).some(f => covers(f, topic))
  return byRules(principal, 'subscribe', topic, rules).allow
}

const INSIDE = `${PREFIX}/#`

/**
 * authorize() for a publish whose topic the caller has already parsed (`parsed` = parseTopic(topic)): the broker's
 * publish path parses each topic once and hands the result to the ACL and to every pipeline step.
 */
export function authorizePublish (
  principal: Principal, topic: string, retain: boolean, rules: readonly AclRule[], parsed: ParsedTopic | undefined
): AclDecision {
  if (topic.startsWith('$')) {
    return deny(topic.startsWith('$autocore') ? '$autocore topics are reserved' : '$ topics are reserved')
  }
  if (topic.startsWith(PREFIX + '/')) return publishInside(principal, parsed, retain)
  return principal.kind === 'user' && principal.role === 'admin' ? ALLOW : byRules(principal, 'publish', topic, rules)
}

function publishInside (p: Principal, parsed: ParsedTopic | undefined, retain: boolean): AclDecision {
  const admin = p.kind === 'user' && p.role === 'admin'
  if (parsed === undefined) return admin ? ALLOW : deny('not a topic of the contract')
  const { family, params } = parsed
  switch (p.kind) {
    case 'device': {
      if (BUTTON_PUBLISH.has(family) && p.pending === undefined && p.capabilities.includes('emergency_button')) {
        return retain ? deny('retained emergency stop') : ALLOW
      }
      if (params.uuid !== p.uuid) return deny('a device publishes only under its own UUID')
      const publishes = p.pending === undefined ? DEVICE_PUBLISH : PENDING_PUBLISH
      if (!publishes.has(family)) return deny(`devices may not publish ${family}`)
      if (retain && !DEVICE_RETAIN.has(family)) return deny('devices retain only their status and relay state')
      return ALLOW
    }
    case 'user':
      if (admin) return DEVICE_PUBLISH.has(family) ? deny('only the device publishes its own topics') : ALLOW
      if (p.role === 'operator' && OPERATOR_PUBLISH.has(family)) {
        return retain ? deny('panel requests are not retained') : ALLOW
      }
      if (p.role === 'viewer') return deny('viewers only read')
      return deny(`${p.role} may not publish ${family}`)
    case 'health':
      if (HEALTH_PUBLISH.has(family) && params.id === p.clientId && !retain) return ALLOW
      return deny('the health identity publishes only its echo topic')
    case 'anonymous':
      return deny('anonymous clients may not use autocore topics')
  }
}

function subscribeFilters (p: Principal): string[] {
  switch (p.kind) {
    case 'device': {
      if (p.pending !== undefined) return filtersOf('pending', { uuid: p.uuid })
      return [...filtersOf('owner', { uuid: p.uuid }), ...SHARED_SUBSCRIBE, ...(p.display ? DISPLAY_SUBSCRIBE : [])]
    }
    case 'user':
      return USER_SUBSCRIBE
    case 'health':
      return [...filtersOf('healthOwner', { id: p.clientId }), ...HEALTH_SUBSCRIBE]
    case 'anonymous':
      return []
  }
}

const UNSAFE_SUBSTITUTION = /[+#/]/

function substitute (filter: string, p: Principal): string | undefined {
  const user = usernameOf(p)
  if (filter.includes('%c') && UNSAFE_SUBSTITUTION.test(p.clientId)) return undefined
  if (filter.includes('%u') && (user === undefined || UNSAFE_SUBSTITUTION.test(user))) return undefined
  return filter.replaceAll('%c', p.clientId).replaceAll('%u', user ?? '')
}

function appliesTo (rule: AclRule, p: Principal, action: AclAction): boolean {
  if (rule.action !== 'both' && rule.action !== action) return false
  if (rule.role !== undefined && rule.role !== roleOf(p)) return false
  if (rule.user !== undefined && rule.user !== usernameOf(p)) return false
  if (rule.client !== undefined && !globMatches(rule.client, p.clientId)) return false
  return true
}

function byRules (p: Principal, action: AclAction, topic: string, rules: readonly AclRule[]): AclDecision {
  for (const rule of rules) {
    if (!appliesTo(rule, p, action)) continue
    const filter = substitute(rule.topic, p)
    if (filter === undefined) continue
    // A publish needs the rule to name its topic. A subscription is granted by an allow rule naming some of what it
    // covers, refused by a deny rule naming all of it; each message is then checked on its own (mayRead).
    const names = action === 'publish' ? covers(filter, topic) : intersects(filter, topic)
    if (rule.effect === 'allow' && names) return ALLOW
    if (rule.effect === 'deny' && covers(filter, topic)) return deny('refused by acl.rules')
  }
  return deny('no acl rule allows it')
}

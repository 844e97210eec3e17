import { ApiError, type Api } from './api.js'
import { mergeEvents, numeric, placeholderDevice, toast, trimPoints, CHART_SPAN_MS } from './ingest.js'
import type { Loadable, PanelState, Point, Reading } from './model.js'
import type { Store } from './store.js'

// What the panel reads over REST into its store (the controller calls these; live changes come over MQTT).

/** Why a request failed, in words for the page (a toast, a list's placeholder). */
export function why (err: unknown): string {
  if (err instanceof ApiError) {
    return err.status === 404 ? 'Not available on this gateway yet (HTTP 404)' : `${err.message} (${err.code})`
  }
  return err instanceof Error ? err.message : String(err)
}

/** Every list the views show, at login and after a reconnect; each part records its own failure. */
export async function loadAll (api: Api, store: Store): Promise<void> {
  void api.me().catch(() => {})
  await Promise.all([
    load(store, 'devicesLoad', async () => {
      const page = await api.devices()
      store.update(s => {
        const devices = { ...s.devices }
        for (const d of page.items) {
          devices[d.uuid] = { ...placeholderDevice(d.uuid), ...d, ...pickLive(s.devices[d.uuid]) }
        }
        return { devices }
      })
    }),
    load(store, 'relaysLoad', async () => {
      const page = await api.relays()
      store.update(() => ({ relays: page.items }))
    }),
    load(store, 'macrosLoad', async () => {
      const page = await api.macros()
      store.update(() => ({ macros: page.items }))
    }),
    load(store, 'eventsLoad', async () => {
      const page = await api.events(100)
      store.update(s => ({ events: mergeEvents(s.events, page.items) }))
    }),
    // The retained emergency state is the truth; the API only fills the gap until it arrives.
    api.emergency().then(e => store.update(s => ({ emergency: s.emergency ?? e })), () => {})
  ])
}

async function load (
  store: Store,
  part: 'devicesLoad' | 'relaysLoad' | 'macrosLoad' | 'eventsLoad',
  fn: () => Promise<void>
): Promise<void> {
  try {
    await fn()
    store.update(() => ({ [part]: { loaded: true, error: null } satisfies Loadable }))
  } catch (err) {
    store.update(() => ({ [part]: { loaded: true, error: why(err) } satisfies Loadable }))
  }
}

/** The latest value of every key of a device, and the last hour of each numeric key (1-minute buckets). */
export async function loadTelemetry (api: Api, store: Store, uuid: string, now: number): Promise<void> {
  try {
    const { readings } = await api.latest(uuid)
    const to = now + 1
    const series = await Promise.all(
      readings.map(async r =>
        typeof r.value === 'string' || r.value === null
          ? []
          : (await api.series(uuid, r.key, to - CHART_SPAN_MS, to).catch(() => ({ points: [] }))).points.map(p => ({
              t: p.t,
              v: p.avg
            }))
      )
    )
    store.update(s => {
      const current = { ...(s.telemetry[uuid] ?? {}) }
      readings.forEach((r, i) => {
        if (r.value === null) return
        current[r.key] = mergeHistory(current[r.key], r, series[i], s.now)
      })
      return { telemetry: { ...s.telemetry, [uuid]: current } }
    })
  } catch (err) {
    store.update(s => toast(s, `Telemetry: ${why(err)}`, 'warning'))
  }
}

/** What live messages already said about a device wins over the list fetched a moment ago. */
function pickLive (d: PanelState['devices'][string] | undefined): Partial<PanelState['devices'][string]> {
  return d === undefined ? {} : { status: d.status, ...(d.lastSeen === null ? {} : { lastSeen: d.lastSeen }) }
}

function mergeHistory (
  prev: Reading | undefined,
  r: { value: number | boolean | string | null, unit: string | null, ts: number },
  history: Point[],
  now: number
): Reading {
  const live = prev?.points ?? []
  const lastHistoric = history.at(-1)?.t ?? -Infinity
  const points = trimPoints([...history, ...live.filter(p => p.t > lastHistoric)], now)
  const newer = prev !== undefined && prev.ts > r.ts
  const value = newer ? prev.value : r.value as number | boolean | string
  const n = numeric(value)
  return {
    value,
    unit: r.unit ?? prev?.unit ?? null,
    ts: newer ? prev.ts : r.ts,
    points: points.length === 0 && n !== null ? [{ t: r.ts, v: n }] : points,
    loaded: true
  }
}

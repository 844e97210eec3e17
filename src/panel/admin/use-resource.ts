import { useCallback, useEffect, useState } from 'preact/hooks'
import type { Api } from '../api.js'
import type { PanelState } from '../model.js'

export interface Resource<T> { data: T | null, error: string | null, reload: () => void }

/**
 * GET `path` for an admin view, again whenever a new event arrives (every change the API makes is an event on
 * `autocore/events/…`, which the panel already receives: a second admin sees the change live) and every
 * `everyMs` when given (uptime, load).
 */
export function useResource<T> (api: Api | null, path: string, state: PanelState, everyMs?: number): Resource<T> {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [tick, setTick] = useState(0)
  const reload = useCallback(() => setTick(n => n + 1), [])
  const lastEvent = state.events[0]?.id ?? 0
  useEffect(() => {
    if (api === null) return
    let live = true
    api.call<T>('GET', path).then(d => {
      if (!live) return
      setData(d)
      setError(null)
    }, (err: Error) => { if (live) setError(err.message) })
    return () => { live = false }
  }, [api, path, tick, lastEvent])
  useEffect(() => {
    if (everyMs === undefined) return
    const t = setInterval(reload, everyMs)
    return () => clearInterval(t)
  }, [everyMs])
  return { data, error, reload }
}

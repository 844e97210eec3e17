import { useEffect, useState } from 'preact/hooks'
import type { PanelState } from './model.js'

type Listener = (s: PanelState) => void

/** One immutable state object; `update` replaces it and tells every subscriber (the views re-render). */
export class Store {
  private listeners = new Set<Listener>()
  private queued = false
  constructor (private current: PanelState) {}

  get state (): PanelState { return this.current }

  update (fn: (s: PanelState) => Partial<PanelState>): void {
    this.current = { ...this.current, ...fn(this.current) }
    // Bursts of messages (retained states at subscribe) render once per frame, not once per message.
    if (this.queued) return
    this.queued = true
    queueMicrotask(() => {
      this.queued = false
      for (const l of this.listeners) l(this.current)
    })
  }

  subscribe (l: Listener): () => void {
    this.listeners.add(l)
    return () => { this.listeners.delete(l) }
  }
}

export function useStore (store: Store): PanelState {
  const [state, setState] = useState(store.state)
  useEffect(() => {
    setState(store.state)
    return store.subscribe(setState)
  }, [store])
  return state
}

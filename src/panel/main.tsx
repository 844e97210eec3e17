import { render } from 'preact'
import { App } from './app.js'
import { Panel } from './controller.js'
import './styles.css'

/** The WebSocket path comes from the gateway's config, written into index.html when it is served. */
function wsUrl (): string {
  const path = document.querySelector('meta[name="autocore-ws-path"]')?.getAttribute('content') ?? '/mqtt'
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path.startsWith('/') ? path : '/mqtt'}`
}

const panel = new Panel({ storage: localStorage, wsUrl: wsUrl(), location })
window.addEventListener('hashchange', () => panel.onHashChange())
// Closing or leaving the page: end the socket at once, so the gateway releases any hold of this panel.
window.addEventListener('pagehide', () => panel.pageHide())
// Back from the back/forward cache with a closed socket: start afresh.
window.addEventListener('pageshow', e => { if (e.persisted) location.reload() })
// A tablet whose screen goes off lets go of what it was holding.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') panel.releaseAllHolds()
})
const root = document.getElementById('app')
if (root !== null) render(<App panel={panel} />, root)
panel.boot()

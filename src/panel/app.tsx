import type { Panel } from './controller.js'
import { EmergencyBanner, Header } from './components/header.js'
import { Login } from './components/login.js'
import { Icon } from './components/ui.js'
import { viewsFor, type PanelState } from './model.js'
import { useStore } from './store.js'
import { DevicesView } from './views/devices.js'
import { EventsView } from './views/events.js'
import { MacrosView } from './views/macros.js'
import { RelaysView } from './views/relays.js'
import { TelemetryView } from './views/telemetry.js'
import { SetupView } from './admin/setup.js'
import { SystemView } from './admin/system.js'
import './admin/admin.css'

function Nav (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  return (
    <nav class='nav' aria-label='views'>
      {viewsFor(props.state.session?.role).map(v => (
        <button
          key={v.id}
          class='nav-item'
          data-view={v.id}
          aria-current={props.state.view === v.id ? 'page' : undefined}
          onClick={() => props.panel.setView(v.id)}
        >
          <Icon name={v.id} size={26} />
          <span>{v.label}</span>
        </button>
      ))}
    </nav>
  )
}

function Toasts (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  return (
    <div class='toasts' aria-live='polite'>
      {props.state.toasts.map(t => (
        <button key={t.id} class={`toast toast-${t.level}`} onClick={() => props.panel.dismissToast(t.id)}>
          {t.text}
        </button>
      ))}
    </div>
  )
}

function CurrentView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  switch (props.state.view) {
    case 'devices':
      return <DevicesView state={props.state} />
    case 'telemetry':
      return <TelemetryView {...props} />
    case 'relays':
      return <RelaysView {...props} />
    case 'macros':
      return <MacrosView {...props} />
    case 'events':
      return <EventsView {...props} />
    // An admin view asked for by a non-admin (an old link): the API would refuse it; the device list instead.
    case 'setup':
      return props.state.session?.role === 'admin' ? <SetupView {...props} /> : <DevicesView state={props.state} />
    case 'system':
      return props.state.session?.role === 'admin' ? <SystemView {...props} /> : <DevicesView state={props.state} />
  }
}

export function App (props: { panel: Panel }): preact.JSX.Element {
  const state = useStore(props.panel.store)
  if (state.session === null) return <Login panel={props.panel} notice={state.notice} />
  const locked = state.emergency?.active === true
  return (
    <div class={`app ${locked ? 'is-locked' : ''}`} data-role={state.session.role}>
      <Header panel={props.panel} state={state} />
      <EmergencyBanner panel={props.panel} state={state} />
      <div class='body'>
        <Nav panel={props.panel} state={state} />
        <main class='view' data-testid={`view-${state.view}`}><CurrentView panel={props.panel} state={state} /></main>
      </div>
      <Toasts panel={props.panel} state={state} />
    </div>
  )
}

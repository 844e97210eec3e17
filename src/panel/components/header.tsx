import { useEffect, useState } from 'preact/hooks'
import type { Panel } from '../controller.js'
import { clock } from '../format.js'
import { canControl, type EmergencyState, type LinkState, type PanelState } from '../model.js'
import { Icon } from './ui.js'

function LinkPill (props: { link: LinkState, onRetry: () => void }): preact.JSX.Element {
  const { link } = props
  const [, redraw] = useState(0)
  // The countdown to the next attempt moves every second even when nothing else happens.
  useEffect(() => {
    if (link.retryAt === null) return
    const t = setInterval(() => redraw(n => n + 1), 1000)
    return () => clearInterval(t)
  }, [link.retryAt])
  const text = link.status === 'online'
    ? 'Live'
    : link.status === 'connecting'
      ? 'Connecting…'
      : link.status === 'offline'
        ? 'Offline'
        : link.retryAt === null
          ? 'Reconnecting…'
          : `Reconnecting in ${Math.max(1, Math.ceil((link.retryAt - Date.now()) / 1000))} s`
  return (
    <button
      class={`link link-${link.status}`}
      data-link={link.status}
      onClick={props.onRetry}
      title={link.error ?? 'connection to the gateway'}
    >
      <span class='dot' />
      <span class='link-text'>{text}</span>
    </button>
  )
}

export function EmergencyButton (props: { panel: Panel, emergency: EmergencyState | null }): preact.JSX.Element {
  const active = props.emergency?.active === true
  return (
    <button
      class={`estop ${active ? 'estop-active' : ''}`}
      data-testid='estop'
      disabled={active}
      onClick={() => {
        void props.panel.emergencyStop()
      }}
    >
      <Icon name='stop' size={26} />
      <span>
        {active
          ? (
              'STOPPED'
            )
          : (
            <>
              <span class='estop-long'>EMERGENCY </span>STOP
            </>
            )}
      </span>
    </button>
  )
}

function ResetButton (props: { panel: Panel }): preact.JSX.Element {
  const [armed, setArmed] = useState(false)
  useEffect(() => {
    if (!armed) return
    const t = setTimeout(() => setArmed(false), 4000)
    return () => clearTimeout(t)
  }, [armed])
  return (
    <button
      class={`btn ${armed ? 'btn-warn' : 'btn-ghost-light'}`} data-testid='estop-reset' onClick={() => {
        if (!armed) return setArmed(true)
        setArmed(false)
        void props.panel.emergencyReset()
      }}
    >{armed ? 'Tap again to reset' : 'Reset'}
    </button>
  )
}

export function EmergencyBanner (props: { panel: Panel, state: PanelState }): preact.JSX.Element | null {
  const e = props.state.emergency
  if (e?.active !== true) return null
  // source is `user:<name>`, `device:<uuid>`, `api`...: the name alone reads better.
  const by = e.source === null ? null : `by ${e.source.replace(/^user:/, '')}`
  const details = [e.since === null ? null : `since ${clock(e.since, props.state.now)}`, e.reason, by]
    .filter(Boolean)
    .join(' · ')
  return (
    <div class='banner' role='alert' data-testid='emergency-banner'>
      <Icon name='stop' size={28} />
      <div class='banner-text'>
        <strong>EMERGENCY STOP ACTIVE</strong>
        <span>{details}</span>
      </div>
      {props.state.session?.role === 'admin'
        ? (
          <ResetButton panel={props.panel} />
          )
        : (
          <span class='banner-note'>An admin must reset it</span>
          )}
    </div>
  )
}

export function Header (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const { panel, state } = props
  const session = state.session
  return (
    <header class='top'>
      <div class='brand'>
        <span class='brand-mark' />
        AutoCore
      </div>
      <LinkPill link={state.link} onRetry={() => panel.retryNow()} />
      <div class='spacer' />
      <div class='who'>
        <strong>{session?.username}</strong>
        <span class='role' data-testid='role'>
          {session?.role}
        </span>
      </div>
      <button class='icon-btn' aria-label='Log out' title='Log out' onClick={() => panel.logout()}>
        <Icon name='logout' />
      </button>
      {canControl(session?.role) ? <EmergencyButton panel={panel} emergency={state.emergency} /> : null}
    </header>
  )
}

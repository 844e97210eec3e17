import { useState } from 'preact/hooks'
import { Lock, Placeholder, ViewHeader } from '../components/ui.js'
import { CONFIRM_MS, type Panel } from '../controller.js'
import { canControl, channelKey, type PanelState, type Pending, type RelayItem } from '../model.js'

/** What the board last confirmed for a channel: its retained state report (or the stored one from the API). */
export function confirmed (state: PanelState, ch: RelayItem): boolean | null {
  const live = state.relayStates[ch.deviceUuid]?.[String(ch.channelNumber)]
  return live ?? ch.currentState ?? null
}

interface Ctx { panel: Panel, state: PanelState, control: boolean, disabled: boolean }

function pendingOf (state: PanelState, ch: RelayItem): Pending | undefined {
  return state.pending[channelKey(ch.deviceUuid, ch.channelNumber)]
}

function StateBadge (props: { on: boolean | null, pending: Pending | undefined, now: number }): preact.JSX.Element {
  const { on, pending, now } = props
  const waiting = pending !== undefined && pending.error === null && now - pending.since < CONFIRM_MS
  return (
    <div class='relay-state'>
      <span class={`state state-${on === null ? 'unknown' : on ? 'on' : 'off'}`} data-testid='relay-state'>{on === null ? '—' : on ? 'ON' : 'OFF'}</span>
      {waiting ? <span class='pending' data-testid='relay-pending'><span class='spinner' />{pending.want === 'pulse' ? 'Pulsing…' : pending.want ? 'Switching on…' : 'Switching off…'}</span> : null}
      {pending?.error != null ? <span class='relay-error' role='alert'>{pending.error}</span> : null}
      {pending !== undefined && pending.error === null && !waiting ? <span class='relay-error'>No confirmation from the board</span> : null}
    </div>
  )
}

function HoldButton (props: { ctx: Ctx, ch: RelayItem, label?: string }): preact.JSX.Element {
  const { ctx, ch } = props
  const [down, setDown] = useState(false)
  const start = (): void => { setDown(true); ctx.panel.holdStart(ch) }
  // holdEnd is a no-op when nothing is held, so a late pointercancel after pointerup does no harm.
  const end = (): void => { setDown(false); ctx.panel.holdEnd(ch) }
  return (
    <button
      class={`btn btn-hold ${down ? 'is-down' : ''}`} data-testid='relay-hold' disabled={ctx.disabled}
      onPointerDown={e => { e.currentTarget.setPointerCapture(e.pointerId); start() }}
      onPointerUp={end} onPointerCancel={end} onLostPointerCapture={end}
      onKeyDown={e => { if ((e.key === ' ' || e.key === 'Enter') && !down) { e.preventDefault(); start() } }}
      onKeyUp={e => { if (e.key === ' ' || e.key === 'Enter') end() }}
      onContextMenu={e => e.preventDefault()}
    >{down ? 'Holding…' : props.label ?? 'Hold'}</button>
  )
}

function Control (props: { ctx: Ctx, ch: RelayItem, on: boolean | null }): preact.JSX.Element | null {
  const { ctx, ch, on } = props
  if (!ctx.control || !ch.enabled) return null
  switch (ch.function) {
    case 'momentary':
      return <HoldButton ctx={ctx} ch={ch} />
    case 'pulse':
      return <button class='btn btn-primary' data-testid='relay-pulse' disabled={ctx.disabled} onClick={() => { void ctx.panel.relay(ch, 'pulse') }}>Pulse{ch.pulseMs !== null ? ` ${ch.pulseMs} ms` : ''}</button>
    default:
      return (
        <button class={`btn ${on === true ? 'btn-on' : 'btn-primary'}`} data-testid='relay-toggle' aria-pressed={on === true} disabled={ctx.disabled}
          onClick={() => { void ctx.panel.relay(ch, on === true ? 'off' : 'on') }}>{on === true ? 'Turn off' : 'Turn on'}</button>
      )
  }
}

function ChannelCard (props: { ctx: Ctx, ch: RelayItem }): preact.JSX.Element {
  const { ctx, ch } = props
  const on = confirmed(ctx.state, ch)
  return (
    <article class={`card relay ${ch.enabled ? '' : 'is-disabled'}`} data-channel={ch.channelNumber} data-uuid={ch.deviceUuid} data-state={on === null ? 'unknown' : on ? 'on' : 'off'}>
      <div class='relay-head'>
        <h3>{ch.name}</h3>
        <span class='relay-meta'>ch {ch.channelNumber} · {ch.function}{ch.enabled ? '' : ' · disabled'}</span>
      </div>
      <StateBadge on={on} pending={pendingOf(ctx.state, ch)} now={ctx.state.now} />
      <Control ctx={ctx} ch={ch} on={on} />
      {ctx.control && ctx.state.emergency?.active === true ? <Lock /> : null}
    </article>
  )
}

/** A mutex group (e.g. forward / reverse) as one selector: at most one on, "Off" for none. */
function MutexCard (props: { ctx: Ctx, group: string, channels: RelayItem[] }): preact.JSX.Element {
  const { ctx, group, channels } = props
  const states = channels.map(ch => confirmed(ctx.state, ch))
  const selected = states.findIndex(s => s === true)
  const allOff = states.every(s => s === false)
  const pendings = channels.map(ch => pendingOf(ctx.state, ch))
  const momentary = channels.some(ch => ch.function === 'momentary')
  return (
    <article class='card relay relay-group' data-group={group} data-uuid={channels[0].deviceUuid}>
      <div class='relay-head'>
        <h3>{group}</h3>
        <span class='relay-meta'>one at a time · ch {channels.map(c => c.channelNumber).join(', ')}</span>
      </div>
      <div class='segments' role={momentary ? undefined : 'radiogroup'}>
        {!momentary && ctx.control
          ? <button class='segment' role='radio' aria-checked={allOff} disabled={ctx.disabled} onClick={() => { void ctx.panel.select(channels, null) }}>Off</button>
          : null}
        {channels.map((ch, i) => (
          <div key={ch.id} class='segment-wrap' data-channel={ch.channelNumber} data-state={states[i] === null ? 'unknown' : states[i] === true ? 'on' : 'off'}>
            {momentary || !ctx.control || !ch.enabled
              ? <div class={`segment-static ${states[i] === true ? 'is-on' : ''}`}>{ch.name}</div>
              : <button class='segment' role='radio' aria-checked={selected === i} disabled={ctx.disabled} onClick={() => { void ctx.panel.select(channels, ch) }}>{ch.name}</button>}
            {momentary && ctx.control && ch.enabled ? <HoldButton ctx={ctx} ch={ch} label={`Hold ${ch.name}`} /> : null}
            <StateBadge on={states[i]} pending={pendings[i]} now={ctx.state.now} />
          </div>
        ))}
      </div>
      {ctx.control && ctx.state.emergency?.active === true ? <Lock /> : null}
    </article>
  )
}

function Board (props: { ctx: Ctx, uuid: string, channels: RelayItem[] }): preact.JSX.Element {
  const { ctx, uuid, channels } = props
  const device = ctx.state.devices[uuid]
  const groups = new Map<string, RelayItem[]>()
  const cards: preact.JSX.Element[] = []
  for (const ch of channels) {
    if (ch.mutexGroup === null) continue
    groups.set(ch.mutexGroup, [...(groups.get(ch.mutexGroup) ?? []), ch])
  }
  const seen = new Set<string>()
  for (const ch of channels) {
    if (ch.mutexGroup === null) cards.push(<ChannelCard key={ch.id} ctx={ctx} ch={ch} />)
    else if (!seen.has(ch.mutexGroup)) {
      seen.add(ch.mutexGroup)
      cards.push(<MutexCard key={`g-${ch.mutexGroup}`} ctx={ctx} group={ch.mutexGroup} channels={groups.get(ch.mutexGroup) ?? []} />)
    }
  }
  return (
    <div class='board' data-uuid={uuid}>
      <h2 class='board-title'><span class={`dot dot-${device?.status ?? 'offline'}`} />{device?.name ?? channels[0].deviceName}<small>{device?.status ?? ''}</small></h2>
      <div class='grid grid-relays'>{cards}</div>
    </div>
  )
}

export function RelaysView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const { panel, state } = props
  const control = canControl(state.session?.role)
  const online = state.link.status === 'online'
  const ctx: Ctx = { panel, state, control, disabled: state.emergency?.active === true || !online }
  const byBoard = new Map<string, RelayItem[]>()
  for (const ch of [...state.relays].sort((a, b) => a.channelNumber - b.channelNumber)) byBoard.set(ch.deviceUuid, [...(byBoard.get(ch.deviceUuid) ?? []), ch])
  return (
    <section>
      <ViewHeader title='Relays'>{control ? null : <span class='count'>view only</span>}</ViewHeader>
      {control && !online ? <Placeholder tone='error'>Not connected to the gateway: controls are off until the connection is back.</Placeholder> : null}
      {state.relaysLoad.error !== null ? <Placeholder tone='error'>Relay list: {state.relaysLoad.error}</Placeholder> : null}
      {state.relaysLoad.loaded && state.relays.length === 0 && state.relaysLoad.error === null ? <Placeholder>No relay channels configured.</Placeholder> : null}
      {!state.relaysLoad.loaded ? <Placeholder>Loading relays…</Placeholder> : null}
      {[...byBoard].map(([uuid, channels]) => <Board key={uuid} ctx={ctx} uuid={uuid} channels={channels} />)}
    </section>
  )
}

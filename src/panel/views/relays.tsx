import { useState } from 'preact/hooks'
import { Icon, Placeholder, ViewHeader } from '../components/ui.js'
import { CONFIRM_MS, type Panel } from '../controller.js'
import { canControl, channelKey, type PanelState, type Pending, type RelayItem } from '../model.js'

/** What the board last confirmed for a channel: its retained state report (or the stored one from the API). */
export function confirmed (state: PanelState, ch: RelayItem): boolean | null {
  const live = state.relayStates[ch.deviceUuid]?.[String(ch.channelNumber)]
  return live ?? ch.currentState ?? null
}

interface Ctx { panel: Panel, state: PanelState, control: boolean, disabled: boolean, locked: boolean }

/** While the emergency stop is active every control says so itself, instead of only looking disabled. */
const Locked = (): preact.JSX.Element => <span class='lock'><Icon name='lock' size={18} />E-stop</span>

function pendingOf (state: PanelState, ch: RelayItem): Pending | undefined {
  return state.pending[channelKey(ch.deviceUuid, ch.channelNumber)]
}

function StatePill (props: { on: boolean | null }): preact.JSX.Element {
  const { on } = props
  return (
    <span class={`state state-${on === null ? 'unknown' : on ? 'on' : 'off'}`} data-testid='relay-state'>
      {on === null ? '—' : on ? 'ON' : 'OFF'}
    </span>
  )
}

/** Waiting for the board (spinner), refused (why), or never confirmed: one line under the channel's name. */
function PendingLine (props: { pending: Pending | undefined, now: number }): preact.JSX.Element | null {
  const { pending, now } = props
  if (pending === undefined) return null
  if (pending.error !== null) return <span class='relay-error' role='alert'>{pending.error}</span>
  if (now - pending.since >= CONFIRM_MS) return <span class='relay-error'>No confirmation from the board</span>
  return (
    <span class='pending' data-testid='relay-pending'>
      <span class='spinner' />
      {pending.want === 'pulse' ? 'Pulsing…' : pending.want ? 'Switching on…' : 'Switching off…'}
    </span>
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
    >{ctx.locked ? <Locked /> : down ? 'Holding…' : props.label ?? 'Hold'}
    </button>
  )
}

function Control (props: { ctx: Ctx, ch: RelayItem, on: boolean | null }): preact.JSX.Element | null {
  const { ctx, ch, on } = props
  if (!ctx.control || !ch.enabled) return null
  switch (ch.function) {
    case 'momentary':
      return <HoldButton ctx={ctx} ch={ch} />
    case 'pulse':
      return (
        <button
          class='btn btn-primary'
          data-testid='relay-pulse'
          disabled={ctx.disabled}
          onClick={() => {
            void ctx.panel.relay(ch, 'pulse')
          }}
        >
          {ctx.locked ? <Locked /> : 'Pulse'}
        </button>
      )
    default:
      return (
        <button
          class={`btn ${on === true ? 'btn-on' : 'btn-primary'}`}
          data-testid='relay-toggle'
          aria-pressed={on === true}
          disabled={ctx.disabled}
          onClick={() => {
            void ctx.panel.relay(ch, on === true ? 'off' : 'on')
          }}
        >
          {ctx.locked ? <Locked /> : on === true ? 'Turn off' : 'Turn on'}
        </button>
      )
  }
}

function ChannelCard (props: { ctx: Ctx, ch: RelayItem }): preact.JSX.Element {
  const { ctx, ch } = props
  const on = confirmed(ctx.state, ch)
  return (
    <article
      class={`card relay ${ch.enabled ? '' : 'is-disabled'}`}
      data-channel={ch.channelNumber}
      data-uuid={ch.deviceUuid}
      data-state={on === null ? 'unknown' : on ? 'on' : 'off'}
    >
      <h3 class='relay-name'>{ch.name}</h3>
      <div class='relay-line'>
        <StatePill on={on} />
        <span class='relay-meta'>
          ch {ch.channelNumber} · {ch.function === 'momentary' ? 'hold' : ch.function}
          {ch.function === 'pulse' && ch.pulseMs !== null ? ` ${ch.pulseMs} ms` : ''}
          {ch.enabled ? '' : ' · disabled'}
        </span>
      </div>
      <PendingLine pending={pendingOf(ctx.state, ch)} now={ctx.state.now} />
      <Control ctx={ctx} ch={ch} on={on} />
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
      <h3 class='relay-name relay-group-name'>{group}</h3>
      <span class='relay-meta'>one at a time · ch {channels.map(c => c.channelNumber).join(', ')}</span>
      <div class='segments' role={momentary ? undefined : 'radiogroup'}>
        {!momentary && ctx.control
          ? (
            <button
              class='segment'
              role='radio'
              aria-checked={allOff}
              disabled={ctx.disabled}
              onClick={() => {
                void ctx.panel.select(channels, null)
              }}
            >
              {ctx.locked ? <Icon name='lock' size={16} /> : null}Off
            </button>
            )
          : null}
        {channels.map((ch, i) => (
          <div
            key={ch.id}
            class='segment-wrap'
            data-channel={ch.channelNumber}
            data-state={states[i] === null ? 'unknown' : states[i] === true ? 'on' : 'off'}
          >
            {momentary || !ctx.control || !ch.enabled
              ? (
                <div class={`segment-static ${states[i] === true ? 'is-on' : ''}`}>{ch.name}</div>
                )
              : (
                <button
                  class='segment'
                  role='radio'
                  aria-checked={selected === i}
                  disabled={ctx.disabled}
                  onClick={() => {
                    void ctx.panel.select(channels, ch)
                  }}
                >
                  {ctx.locked ? <Icon name='lock' size={16} /> : null}
                  {ch.name}
                </button>
                )}
            {momentary && ctx.control && ch.enabled ? <HoldButton ctx={ctx} ch={ch} label={`Hold ${ch.name}`} /> : null}
            <PendingLine pending={pendings[i]} now={ctx.state.now} />
          </div>
        ))}
      </div>
      {ctx.locked
        ? (
          <span class='lock'>
            <Icon name='lock' size={18} />
            Locked by the emergency stop
          </span>
          )
        : null}
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
      cards.push(
        <MutexCard
          key={`g-${ch.mutexGroup}`}
          ctx={ctx}
          group={ch.mutexGroup}
          channels={groups.get(ch.mutexGroup) ?? []}
        />
      )
    }
  }
  return (
    <div class='board' data-uuid={uuid}>
      <h2 class='board-title'>
        <span class={`dot dot-${device?.status ?? 'offline'}`} />
        {device?.name ?? channels[0].deviceName}
        <small>{device?.status ?? ''}</small>
      </h2>
      <div class='grid grid-relays'>{cards}</div>
    </div>
  )
}

export function RelaysView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const { panel, state } = props
  const control = canControl(state.session?.role)
  const online = state.link.status === 'online'
  const locked = control && state.emergency?.active === true
  const ctx: Ctx = { panel, state, control, disabled: locked || !online, locked }
  const byBoard = new Map<string, RelayItem[]>()
  for (const ch of [...state.relays].sort((a, b) => a.channelNumber - b.channelNumber)) {
    byBoard.set(ch.deviceUuid, [...(byBoard.get(ch.deviceUuid) ?? []), ch])
  }
  return (
    <section>
      <ViewHeader title='Relays'>{control ? null : <span class='count'>view only</span>}</ViewHeader>
      {control && !online
        ? (
          <Placeholder tone='error'>
            Not connected to the gateway: controls are off until the connection is back.
          </Placeholder>
          )
        : null}
      {state.relaysLoad.error !== null
        ? (
          <Placeholder tone='error'>Relay list: {state.relaysLoad.error}</Placeholder>
          )
        : null}
      {state.relaysLoad.loaded && state.relays.length === 0 && state.relaysLoad.error === null
        ? (
          <Placeholder>No relay channels configured.</Placeholder>
          )
        : null}
      {!state.relaysLoad.loaded ? <Placeholder>Loading relays…</Placeholder> : null}
      {[...byBoard].map(([uuid, channels]) => (
        <Board key={uuid} ctx={ctx} uuid={uuid} channels={channels} />
      ))}
    </section>
  )
}

import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Placeholder } from '../components/ui.js'
import type { Panel } from '../controller.js'
import type { DeviceItem, Page, PanelState, RelayItem } from '../model.js'
import { Field, FormError, Section, useAction, type FormErrors } from './forms.js'
import { useResource } from './use-resource.js'

const FUNCTIONS = ['toggle', 'momentary', 'pulse'] as const

/** The form's text, as typed; `body` turns it into the API's fields ('' is null, digits a number). */
interface Draft {
  channelNumber: string
  name: string
  function: string
  mutexGroup: string
  maxOnMs: string
  pulseMs: string
  defaultState: boolean
}

const draftOf = (r: RelayItem): Draft => ({
  channelNumber: String(r.channelNumber),
  name: r.name,
  function: r.function,
  mutexGroup: r.mutexGroup ?? '',
  maxOnMs: r.maxOnMs === null ? '' : String(r.maxOnMs),
  pulseMs: r.pulseMs === null ? '' : String(r.pulseMs),
  defaultState: r.defaultState === true
})
const EMPTY: Draft = {
  channelNumber: '', name: '', function: 'toggle', mutexGroup: '', maxOnMs: '', pulseMs: '', defaultState: false
}
type TextKey = 'channelNumber' | 'name' | 'mutexGroup' | 'maxOnMs' | 'pulseMs'

/** Text that is not a number goes as it is typed: the API refuses it and names the field. */
const num = (s: string): number | string | null => s.trim() === '' ? null : /^-?\d+$/.test(s.trim()) ? Number(s) : s
const text = (s: string): string | null => s.trim() === '' ? null : s.trim()

function body (d: Draft, create: boolean): Record<string, unknown> {
  return {
    ...(create ? { channelNumber: num(d.channelNumber) } : {}),
    name: d.name,
    function: d.function,
    mutexGroup: text(d.mutexGroup),
    maxOnMs: num(d.maxOnMs),
    pulseMs: num(d.pulseMs),
    defaultState: d.defaultState
  }
}

function ChannelFields (props: {
  d: Draft
  set: (d: Draft) => void
  errors: FormErrors
  create: boolean
}): preact.JSX.Element {
  const { d, set, errors } = props
  const input = (key: TextKey, label: string): preact.JSX.Element => (
    <Field label={label} field={`/${key}`} errors={errors}>
      {a => <input {...a} name={key} value={d[key]} onInput={e => set({ ...d, [key]: e.currentTarget.value })} />}
    </Field>
  )
  return (
    <>
      {props.create ? input('channelNumber', 'Channel') : null}
      {input('name', 'Name')}
      <Field label='Function' field='/function' errors={errors}>
        {a => (
          <select
            {...a} name='function' value={d.function} onChange={e => set({ ...d, function: e.currentTarget.value })}
          >
            {FUNCTIONS.map(f => <option key={f} value={f}>{f}</option>)}
          </select>
        )}
      </Field>
      {input('mutexGroup', 'Mutex group')}
      {input('maxOnMs', 'Max on (ms)')}
      {input('pulseMs', 'Pulse (ms)')}
      <label class='check'>
        <input
          type='checkbox' name='defaultState' checked={d.defaultState}
          onChange={e => set({ ...d, defaultState: e.currentTarget.checked })}
        />On at start
      </label>
    </>
  )
}

/** One channel: its settings saved with one PATCH; delete with two taps. */
function ChannelRow (props: { api: Api, r: RelayItem, done: () => void }): preact.JSX.Element {
  const [d, set] = useState(draftOf(props.r))
  const [armed, setArmed] = useState(false)
  const act = useAction()
  const path = `/relays/${props.r.id}`
  const save = (e: Event): void => {
    e.preventDefault()
    void act.run(async () => await props.api.call('PATCH', path, body(d, false))).then(props.done)
  }
  const remove = (): void => {
    if (!armed) return setArmed(true)
    void act.run(async () => await props.api.call('DELETE', path)).then(props.done)
  }
  return (
    <li class='row channel-row' data-relay={props.r.id} data-channel={props.r.channelNumber}>
      <form class='channel-form' onSubmit={save} noValidate aria-label={`Channel ${props.r.channelNumber}`}>
        <strong>Channel {props.r.channelNumber}</strong>
        <ChannelFields d={d} set={set} errors={act.errors} create={false} />
        <span class='row-actions'>
          <button class='btn btn-primary' type='submit' data-testid='channel-save' disabled={act.busy}>Save</button>
          <button class={`btn ${armed ? 'btn-warn' : ''}`} type='button' data-testid='channel-delete' onClick={remove}>
            {armed ? 'Tap again' : 'Delete'}
          </button>
        </span>
      </form>
      <FormError errors={act.errors} />
    </li>
  )
}

function AddChannel (props: { api: Api, uuid: string, done: () => void }): preact.JSX.Element {
  const [d, set] = useState(EMPTY)
  const act = useAction()
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const create = { deviceUuid: props.uuid, ...body(d, true) }
    const ok = await act.run(async () => await props.api.call('POST', '/relays', create))
    if (ok) {
      set(EMPTY)
      props.done()
    }
  }
  return (
    <Section title='Add a channel' testid='channel-add'>
      <form class='channel-form' onSubmit={e => { void submit(e) }} noValidate>
        <ChannelFields d={d} set={set} errors={act.errors} create />
        <button class='btn btn-primary' type='submit' data-testid='channel-add-submit' disabled={act.busy}>Add</button>
      </form>
      <FormError errors={act.errors} />
    </Section>
  )
}

/** Relay channels per board: name, function, mutex group, max-on, pulse length, default state. */
export function RelaysAdmin (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const api = props.panel.rest
  // Channel edits are not events: the list is also read again every 10 s, for a second admin.
  const boards = useResource<Page<DeviceItem>>(api, '/devices?type=relay_board&limit=500', props.state)
  const [uuid, setUuid] = useState<string | null>(null)
  const board = uuid ?? boards.data?.items[0]?.uuid ?? null
  const path = `/relays?limit=500&deviceUuid=${encodeURIComponent(board ?? '')}`
  const relays = useResource<Page<RelayItem>>(api, path, props.state, 10_000)
  if (api === null) return <Placeholder>Not logged in.</Placeholder>
  if (boards.data?.items.length === 0) return <Placeholder>No relay board yet: add one under Devices.</Placeholder>
  return (
    <>
      <div class='chips' role='tablist' aria-label='board'>
        {(boards.data?.items ?? []).map(b => (
          <button
            key={b.uuid} role='tab' class='chip' data-uuid={b.uuid} aria-selected={b.uuid === board}
            onClick={() => setUuid(b.uuid)}
          >
            {b.name}
          </button>
        ))}
      </div>
      {relays.error !== null ? <Placeholder tone='error'>Relays: {relays.error}</Placeholder> : null}
      <ul class='rows' data-testid='channel-list'>
        {(relays.data?.items ?? []).filter(r => r.deviceUuid === board).map(r => (
          // Keyed by the row's values too: a change saved elsewhere replaces the form's draft.
          <ChannelRow key={`${r.id}:${JSON.stringify(draftOf(r))}`} api={api} r={r} done={relays.reload} />
        ))}
      </ul>
      {board === null ? null : <AddChannel key={board} api={api} uuid={board} done={relays.reload} />}
    </>
  )
}

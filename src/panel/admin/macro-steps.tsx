import type { RelayItem } from '../model.js'
import { Field, type FormErrors } from './forms.js'

/** A step as the API stores it (`{type, params, condition?}`); the editor writes relay and delay steps. */
export interface Step {
  type: string
  params: Record<string, unknown>
  condition?: { relay: number, is: 'on' | 'off' } | Record<string, unknown> | null
}

const ACTIONS = ['on', 'off', 'toggle', 'pulse'] as const

/** Typed text: a whole number becomes a number, anything else goes as typed (the API names the field). */
export const num = (s: string): number | string => /^-?\d+$/.test(s.trim()) ? Number(s) : s

interface PartProps { i: number, s: Step, relays: RelayItem[], errors: FormErrors, set: (s: Step) => void }

function RelayStep (props: PartProps): preact.JSX.Element {
  const { i, s, relays, errors, set } = props
  const p = s.params
  const current = relays.find(r => r.deviceUuid === p.device_uuid && r.channelNumber === p.channel)
  return (
    <>
      <Field label='Channel' field={`/actions/${i}/params/channel`} errors={errors}>
        {a => (
          <select
            {...a} name={`step-${i}-relay`} value={current === undefined ? '' : String(current.id)}
            onChange={e => {
              const r = relays.find(x => String(x.id) === e.currentTarget.value)
              if (r !== undefined) set({ ...s, params: { ...p, device_uuid: r.deviceUuid, channel: r.channelNumber } })
            }}
          >
            <option value=''>choose…</option>
            {relays.map(r => <option key={r.id} value={String(r.id)}>{r.deviceName} · {r.name}</option>)}
          </select>
        )}
      </Field>
      <Field label='Action' field={`/actions/${i}/params/action`} errors={errors}>
        {a => (
          <select
            {...a} name={`step-${i}-action`} value={String(p.action ?? 'on')}
            onChange={e => set({ ...s, params: { ...p, action: e.currentTarget.value } })}
          >
            {ACTIONS.map(x => <option key={x} value={x}>{x}</option>)}
          </select>
        )}
      </Field>
    </>
  )
}

function Condition (props: PartProps): preact.JSX.Element {
  const { i, s, relays, set } = props
  const c = s.condition != null && 'relay' in s.condition ? s.condition as { relay: number, is: string } : null
  return (
    <Field label='Only if' field={`/actions/${i}/condition`} errors={props.errors}>
      {a => (
        <select
          {...a} name={`step-${i}-if`} value={c === null ? '' : `${c.relay}:${c.is}`}
          onChange={e => {
            const [relay, is] = e.currentTarget.value.split(':')
            set({ ...s, condition: relay === '' ? null : { relay: Number(relay), is: is as 'on' | 'off' } })
          }}
        >
          <option value=''>always</option>
          {relays.flatMap(r => ['on', 'off'].map(is => (
            <option key={`${r.id}:${is}`} value={`${r.id}:${is}`}>{r.name} is {is}</option>
          )))}
        </select>
      )}
    </Field>
  )
}

/** One step's fields, named by the pointers the API's 400 uses (`/actions/1/params/ms`). */
export function StepEditor (props: {
  i: number
  s: Step
  last: boolean
  relays: RelayItem[]
  errors: FormErrors
  set: (s: Step | null) => void
  move: (by: -1 | 1) => void
}): preact.JSX.Element {
  const { i, s, errors } = props
  const set = (n: Step): void => props.set(n)
  const key = s.type === 'delay' ? 'ms' : 'duration_ms'
  return (
    <li class='row step' data-step={i} data-type={s.type}>
      <strong>{i + 1}. {s.type}</strong>
      <div class='channel-form'>
        {s.type === 'relay' ? <RelayStep {...props} set={set} /> : null}
        {s.type === 'relay' || s.type === 'delay'
          ? (
            <Field
              label={s.type === 'delay' ? 'Wait (ms)' : 'Duration (ms)'} errors={errors}
              field={`/actions/${i}/params/${key}`}
            >
              {a => (
                <input
                  {...a} name={`step-${i}-ms`} value={String(s.params[key] ?? '')}
                  onInput={e => {
                    const v = e.currentTarget.value
                    const params = { ...s.params }
                    if (v === '' && key === 'duration_ms') delete params[key]
                    else params[key] = num(v)
                    set({ ...s, params })
                  }}
                />
              )}
            </Field>
            )
          : <span class='hint'>{JSON.stringify(s.params)}</span>}
        <Condition {...props} set={set} />
      </div>
      <span class='row-actions'>
        <button
          class='btn' type='button' aria-label={`Move step ${i + 1} up`} disabled={i === 0}
          onClick={() => props.move(-1)}
        >
          ↑
        </button>
        <button
          class='btn' type='button' aria-label={`Move step ${i + 1} down`} disabled={props.last}
          onClick={() => props.move(1)}
        >↓
        </button>
        <button class='btn' type='button' data-testid='step-remove' onClick={() => props.set(null)}>Remove</button>
      </span>
    </li>
  )
}

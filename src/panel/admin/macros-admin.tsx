import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Placeholder } from '../components/ui.js'
import type { Panel } from '../controller.js'
import type { MacroItem, Page, PanelState, RelayItem } from '../model.js'
import { Progress } from '../views/macros.js'
import { CreateByName, Field, FormError, Section, useAction } from './forms.js'
import { StepEditor, type Step } from './macro-steps.js'
import { useResource } from './use-resource.js'

function MacroEditor (props: {
  panel: Panel
  api: Api
  m: MacroItem
  relays: RelayItem[]
  state: PanelState
  done: () => void
}): preact.JSX.Element {
  const { api, m } = props
  const [name, setName] = useState(m.name)
  const [steps, setSteps] = useState<Step[]>(m.actions as Step[])
  const act = useAction()
  const setStep = (i: number, s: Step | null): void =>
    setSteps(s === null ? steps.filter((_, j) => j !== i) : steps.map((x, j) => j === i ? s : x))
  const move = (i: number, by: -1 | 1): void => {
    const next = [...steps]
    const [s] = next.splice(i, 1)
    next.splice(i + by, 0, s)
    setSteps(next)
  }
  const save = (e: Event): void => {
    e.preventDefault()
    void act.run(async () => await api.call('PATCH', `/macros/${m.id}`, { name, actions: steps })).then(props.done)
  }
  const run = props.state.macroRuns[String(m.id)]
  const first = props.relays[0]
  const relayStep: Step = {
    type: 'relay', params: { device_uuid: first?.deviceUuid ?? '', channel: first?.channelNumber ?? 1, action: 'on' }
  }
  return (
    <Section title={`Macro: ${m.name}`} testid='macro-editor'>
      <form class='form' onSubmit={save} noValidate>
        <Field label='Name' field='/name' errors={act.errors}>
          {a => <input {...a} name='macro-name' value={name} onInput={e => setName(e.currentTarget.value)} />}
        </Field>
        <ol class='rows' data-testid='macro-steps'>
          {steps.map((s, i) => (
            <StepEditor
              key={i} i={i} s={s} last={i === steps.length - 1} relays={props.relays} errors={act.errors}
              set={n => setStep(i, n)} move={by => move(i, by)}
            />
          ))}
        </ol>
        <span class='row-actions'>
          <button
            class='btn' type='button' data-testid='step-add-relay' onClick={() => setSteps([...steps, relayStep])}
          >
            + Relay step
          </button>
          <button
            class='btn' type='button' data-testid='step-add-delay'
            onClick={() => setSteps([...steps, { type: 'delay', params: { ms: 500 } }])}
          >+ Delay
          </button>
          <button class='btn btn-primary' type='submit' data-testid='macro-save' disabled={act.busy}>Save</button>
          <button
            class='btn' type='button' data-testid='macro-test-run'
            disabled={props.state.link.status !== 'online' || props.state.emergency?.active === true}
            onClick={() => { void props.panel.runMacro({ ...m, actions: steps }) }}
          >Test run
          </button>
        </span>
      </form>
      <FormError errors={act.errors} />
      <Progress run={run} steps={steps.length} />
    </Section>
  )
}

/** Macros: steps (set a relay, wait, only if a relay is on/off), ordered, saved in one request, test-run. */
export function MacrosAdmin (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const api = props.panel.rest
  const macros = useResource<Page<MacroItem>>(api, '/macros?limit=500', props.state, 10_000)
  const relays = useResource<Page<RelayItem>>(api, '/relays?limit=500', props.state)
  const [selected, setSelected] = useState<number | null>(null)
  if (api === null) return <Placeholder>Not logged in.</Placeholder>
  const items = macros.data?.items ?? []
  const m = items.find(x => x.id === selected) ?? items[0]
  return (
    <>
      <div class='chips' role='tablist' aria-label='macro'>
        {items.map(x => (
          <button
            key={x.id} role='tab' class='chip' data-macro={x.id} aria-selected={x.id === m?.id}
            onClick={() => setSelected(x.id)}
          >{x.name}
          </button>
        ))}
      </div>
      {m === undefined
        ? null
        : (
          <MacroEditor
            key={`${m.id}:${JSON.stringify(m)}`} panel={props.panel} api={api} m={m} state={props.state}
            relays={relays.data?.items ?? []} done={macros.reload}
          />
          )}
      <CreateByName
        kind='macro' label='New macro'
        create={async name => (await api.call<MacroItem>('POST', '/macros', { name, actions: [] })).id}
        done={id => {
          setSelected(id)
          macros.reload()
        }}
      />
    </>
  )
}

import { Icon, Placeholder, ViewHeader } from '../components/ui.js'
import type { Panel } from '../controller.js'
import { canControl, type MacroItem, type MacroRun, type PanelState } from '../model.js'

const FINISHED = new Set(['completed', 'failed', 'cancelled', 'interrupted'])

export function Progress (props: { run: MacroRun | undefined, steps: number }): preact.JSX.Element | null {
  const { run } = props
  if (run === undefined) return null
  const steps = run.steps > 0 ? run.steps : props.steps
  const done = run.status === 'completed' ? steps : run.step
  const pct = steps === 0 ? 100 : Math.round((done / steps) * 100)
  const label = run.status === 'requested'
    ? 'Starting…'
    : run.status === 'running' ? `Step ${run.step} of ${steps}` : run.status
  return (
    <div class={`progress progress-${run.status}`} data-testid='macro-progress' data-status={run.status}>
      <div class='progress-bar'><span style={{ width: `${pct}%` }} /></div>
      <span class='progress-label'>{label}{run.message !== null ? ` · ${run.message}` : ''}</span>
    </div>
  )
}

function MacroCard (props: { panel: Panel, state: PanelState, m: MacroItem }): preact.JSX.Element {
  const { panel, state, m } = props
  const run = state.macroRuns[String(m.id)]
  const running = run !== undefined && !FINISHED.has(run.status)
  const locked = state.emergency?.active === true
  const control = canControl(state.session?.role)
  const label = locked ? <span class='lock'><Icon name='lock' size={18} />E-stop</span> : 'Run'
  const action = running
    ? (
      <button
        class='btn btn-warn'
        data-testid='macro-cancel'
        onClick={() => {
          void panel.cancelMacro(m)
        }}
      >
        Cancel
      </button>
      )
    : (
      <button
        class='btn btn-primary'
        data-testid='macro-run'
        disabled={locked || state.link.status !== 'online'}
        onClick={() => {
          void panel.runMacro(m)
        }}
      >
        {label}
      </button>
      )
  return (
    <article class={`card macro ${m.enabled ? '' : 'is-disabled'}`} data-macro={m.id}>
      <div class='macro-main'>
        <h2>{m.name}</h2>
        <p class='macro-desc'>{m.description ?? ''}</p>
        <span class='relay-meta'>
          {m.actions.length} step{m.actions.length === 1 ? '' : 's'}
          {m.enabled ? '' : ' · disabled'}
        </span>
      </div>
      <Progress run={run} steps={m.actions.length} />
      {control && m.enabled ? <div class='macro-actions'>{action}</div> : null}
    </article>
  )
}

export function MacrosView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const { state } = props
  return (
    <section>
      <ViewHeader title='Macros'>
        {canControl(state.session?.role) ? null : <span class='count'>view only</span>}
      </ViewHeader>
      {state.macrosLoad.error !== null
        ? (
          <Placeholder tone='error'>Macros: {state.macrosLoad.error}</Placeholder>
          )
        : null}
      {!state.macrosLoad.loaded ? <Placeholder>Loading macros…</Placeholder> : null}
      {state.macrosLoad.loaded && state.macrosLoad.error === null && state.macros.length === 0
        ? (
          <Placeholder>No macros defined.</Placeholder>
          )
        : null}
      <div class='grid grid-macros'>
        {state.macros.map(m => (
          <MacroCard key={m.id} {...props} m={m} />
        ))}
      </div>
    </section>
  )
}

import { useEffect } from 'preact/hooks'
import { Chart } from '../components/chart.js'
import { Placeholder, ViewHeader } from '../components/ui.js'
import type { Panel } from '../controller.js'
import { ago, value as fmt } from '../format.js'
import type { PanelState, Reading } from '../model.js'
import { sortDevices } from './devices.js'

function KeyCard (props: { k: string, r: Reading, now: number }): preact.JSX.Element {
  const { k, r, now } = props
  return (
    <article class='card metric' data-key={k}>
      <div class='metric-head'>
        <h2 title={k}>{k.replace(/_/g, ' ')}</h2>
        <span class='metric-age'>{ago(new Date(r.ts).toISOString(), now)}</span>
      </div>
      <div class='metric-value'>
        <span data-testid='metric-value'>{fmt(r.value)}</span>
        {r.unit !== null ? <small>{r.unit}</small> : null}
      </div>
      {typeof r.value === 'string' ? null : <Chart points={r.points} now={now} unit={r.unit} />}
    </article>
  )
}

export function TelemetryView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const { panel, state } = props
  const devices = sortDevices(Object.values(state.devices))
  const selected =
    state.telemetryDevice ?? devices.find(d => state.telemetry[d.uuid] !== undefined)?.uuid ?? devices[0]?.uuid ?? null
  useEffect(() => {
    if (selected !== null && state.session !== null) void panel.loadTelemetry(selected)
  }, [selected])
  const readings = selected === null ? {} : state.telemetry[selected] ?? {}
  const keys = Object.keys(readings).sort()
  return (
    <section>
      <ViewHeader title='Telemetry' />
      {devices.length === 0 ? <Placeholder>No devices yet.</Placeholder> : null}
      <div class='chips' role='tablist'>
        {devices.map(d => (
          <button
            key={d.uuid}
            role='tab'
            class='chip'
            aria-selected={d.uuid === selected}
            data-uuid={d.uuid}
            onClick={() => panel.selectTelemetry(d.uuid)}
          >
            <span class={`dot dot-${d.status}`} />
            {d.name}
          </button>
        ))}
      </div>
      {selected !== null && keys.length === 0 ? <Placeholder>No readings from this device yet.</Placeholder> : null}
      <div class='grid grid-metrics'>
        {keys.map(k => (
          <KeyCard key={k} k={k} r={readings[k]} now={state.now} />
        ))}
      </div>
    </section>
  )
}

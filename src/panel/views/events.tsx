import { Placeholder, ViewHeader } from '../components/ui.js'
import type { Panel } from '../controller.js'
import { clock, summary } from '../format.js'
import { LEVELS, type PanelState } from '../model.js'

/** A target as people know it: device names for UUIDs (and `uuid/channel`), macro names for `macro:id`. */
function targetLabel (target: string, state: PanelState): string {
  const [head, tail] = target.split('/')
  const device = state.devices[head]
  if (device !== undefined && device.name !== device.uuid) {
    return tail === undefined ? device.name : `${device.name} · ch ${tail}`
  }
  const macro = /^macro:(\d+)$/.exec(target)
  const m = macro === null ? undefined : state.macros.find(x => x.id === Number(macro[1]))
  return m?.name ?? target
}

export function EventsView (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const { panel, state } = props
  const shown = state.events.filter(e => state.eventLevels.includes(e.level))
  const counts = Object.fromEntries(LEVELS.map(l => [l, state.events.filter(e => e.level === l).length]))
  return (
    <section class='events-view'>
      <ViewHeader title='Events'>
        <div class='chips' role='group' aria-label='levels'>
          {LEVELS.map(l => (
            <button
              key={l}
              class={`chip chip-${l}`}
              data-level={l}
              aria-pressed={state.eventLevels.includes(l)}
              onClick={() => panel.toggleLevel(l)}
            >
              {l}
              <span class='chip-count'>{counts[l]}</span>
            </button>
          ))}
        </div>
      </ViewHeader>
      {state.eventsLoad.error !== null
        ? (
          <Placeholder tone='error'>Event history: {state.eventsLoad.error}. New events still appear live.</Placeholder>
          )
        : null}
      {shown.length === 0
        ? (
          <Placeholder>{state.eventsLoad.loaded ? 'No events at these levels.' : 'Loading events…'}</Placeholder>
          )
        : null}
      <ol class='events'>
        {shown.map(e => (
          <li key={e.id} class={`event event-${e.level}`} data-type={e.type} data-level={e.level}>
            <time>{clock(e.ts, state.now)}</time>
            <span class={`level level-${e.level}`}>{e.level}</span>
            <div class='event-main'>
              <div class='event-title'>
                <strong>{e.type.replace(/_/g, ' ')}</strong>
                {e.target !== null
                  ? (
                    <span class='event-target' title={e.target}>
                      {targetLabel(e.target, state)}
                    </span>
                    )
                  : null}
              </div>
              <div class='event-detail'>
                {[e.source, e.username === null ? null : `user ${e.username}`, summary(e.payload)]
                  .filter(Boolean)
                  .join(' · ')}
              </div>
            </div>
          </li>
        ))}
      </ol>
    </section>
  )
}

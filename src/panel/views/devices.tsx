import { ago } from '../format.js'
import type { DeviceItem, PanelState } from '../model.js'
import { Placeholder, ViewHeader } from '../components/ui.js'

const ORDER = { online: 0, pending: 1, offline: 2 }

export function sortDevices (devices: DeviceItem[]): DeviceItem[] {
  return [...devices].sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.name.localeCompare(b.name))
}

function DeviceCard (props: { d: DeviceItem, now: number }): preact.JSX.Element {
  const { d, now } = props
  return (
    <article class={`card device device-${d.status}`} data-uuid={d.uuid} data-status={d.status}>
      <div class='device-head'>
        <span class={`status status-${d.status}`} data-testid='device-status'>
          {d.status}
        </span>
        <h2 class='device-name'>{d.name}</h2>
      </div>
      <dl class='facts'>
        <div>
          <dt>Type</dt>
          <dd>{d.type === '' ? '—' : d.type.replace(/_/g, ' ')}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{d.status === 'online' && d.lastSeen === null ? 'now' : ago(d.lastSeen, now)}</dd>
        </div>
        <div>
          <dt>Firmware</dt>
          <dd>{d.firmware ?? '—'}</dd>
        </div>
        <div>
          <dt>Address</dt>
          <dd>{d.ipAddress ?? '—'}</dd>
        </div>
      </dl>
      <div class='device-id' title={d.uuid}>
        {d.uuid}
        {d.enabled ? '' : ' · disabled'}
      </div>
    </article>
  )
}

export function DevicesView (props: { state: PanelState }): preact.JSX.Element {
  const { state } = props
  const devices = sortDevices(Object.values(state.devices))
  const online = devices.filter(d => d.status === 'online').length
  return (
    <section>
      <ViewHeader title='Devices'>
        <span class='count'>
          <b>{online}</b> online
        </span>
        <span class='count'>
          <b>{devices.length - online}</b> offline
        </span>
      </ViewHeader>
      {state.devicesLoad.error !== null
        ? (
          <Placeholder tone='error'>Device list: {state.devicesLoad.error}. Live status still shows below.</Placeholder>
          )
        : null}
      {devices.length === 0
        ? (
          <Placeholder>
            {state.devicesLoad.loaded
              ? 'No devices yet. Provision one with `autocore-gateway device ' + 'add`.'
              : 'Loading devices…'}
          </Placeholder>
          )
        : (
          <div class='grid grid-devices'>
            {devices.map(d => (
              <DeviceCard key={d.uuid} d={d} now={state.now} />
            ))}
          </div>
          )}
    </section>
  )
}

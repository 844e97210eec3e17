import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Placeholder } from '../components/ui.js'
import type { Panel } from '../controller.js'
import type { DeviceItem, Page, PanelState } from '../model.js'
import { AddDevice, type Created } from './device-add.js'
import { DeviceConfigEditor } from './device-config.js'
import { FormError, Section, useAction } from './forms.js'
import { ProvisioningBlock, type Provisioning } from './provisioning.js'
import type { SystemInfo } from './system.js'
import { useResource } from './use-resource.js'

function provisioning (c: Created, sys: SystemInfo | null): Provisioning {
  const tls = sys?.mqtt.tlsPort ?? null
  return {
    gateway: location.hostname,
    port: sys?.mqtt.port ?? 1883,
    ...(tls === null ? {} : { tls_port: tls }),
    uuid: c.uuid,
    secret: c.secret,
    ...(sys?.mqtt.caPem == null ? {} : { ca: sys.mqtt.caPem })
  }
}

/** Two taps for what cannot be undone: the first arms the button for a few seconds. */
function DeleteButton (props: { onDelete: () => void, label: string }): preact.JSX.Element {
  const [armed, setArmed] = useState(false)
  return (
    <button
      class={`btn ${armed ? 'btn-warn' : ''}`} data-testid='device-delete' aria-label={props.label}
      onClick={() => {
        if (!armed) {
          setArmed(true)
          setTimeout(() => setArmed(false), 4000)
          return
        }
        props.onDelete()
      }}
    >{armed ? 'Tap again' : 'Delete'}
    </button>
  )
}

function DeviceRow (props: {
  api: Api
  d: DeviceItem
  onSecret: (c: Created) => void
  onConfig: () => void
  done: () => void
}): preact.JSX.Element {
  const { api, d } = props
  const act = useAction()
  const path = `/devices/${encodeURIComponent(d.uuid)}`
  const go = (fn: () => Promise<unknown>): void => { void act.run(fn).then(props.done) }
  return (
    <li class='row device-row' data-uuid={d.uuid} data-status={d.status} data-enabled={String(d.enabled)}>
      <span class='row-main'>
        <strong>{d.name}</strong>
        <span class='hint'>{d.type} · {d.uuid} · {d.status}{d.enabled ? '' : ' · disabled'}</span>
      </span>
      <span class='row-actions'>
        {d.status === 'pending'
          ? (
            <button
              class='btn btn-primary' data-testid='device-approve'
              onClick={() => go(async () => await api.call('POST', `${path}/approve`))}
            >Approve
            </button>
            )
          : null}
        <button
          class='btn' data-testid='device-enable'
          onClick={() => go(async () => await api.call('PATCH', path, { enabled: !d.enabled }))}
        >
          {d.enabled ? 'Disable' : 'Enable'}
        </button>
        <button
          class='btn' data-testid='device-rotate'
          onClick={() => go(async () => props.onSecret(await api.call<Created>('POST', `${path}/rotate-secret`)))}
        >New secret
        </button>
        <button class='btn' data-testid='device-config-open' onClick={props.onConfig}>Config</button>
        <DeleteButton label={`Delete ${d.name}`} onDelete={() => go(async () => await api.call('DELETE', path))} />
      </span>
      <FormError errors={act.errors} />
    </li>
  )
}

/** Devices for the admin: add (the secret shown once), approve, enable/disable, new secret, delete, config. */
export function DevicesAdmin (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const api = props.panel.rest
  const devices = useResource<Page<DeviceItem>>(api, '/devices?limit=500', props.state)
  const sys = useResource<SystemInfo>(api, '/system', props.state)
  const [shown, setShown] = useState<Created | null>(null)
  const [config, setConfig] = useState<string | null>(null)
  if (api === null) return <Placeholder>Not logged in.</Placeholder>
  const onSecret = (c: Created): void => {
    setShown(c)
    devices.reload()
  }
  return (
    <>
      {shown === null ? null : <ProvisioningBlock p={provisioning(shown, sys.data)} onClose={() => setShown(null)} />}
      <div class='admin-cols'>
        <Section title='Devices' testid='setup-devices'>
          {devices.error !== null ? <Placeholder tone='error'>Devices: {devices.error}</Placeholder> : null}
          <ul class='rows'>
            {(devices.data?.items ?? []).map(d => (
              <DeviceRow
                key={d.uuid} api={api} d={d} onSecret={onSecret} done={devices.reload}
                onConfig={() => setConfig(d.uuid)}
              />
            ))}
          </ul>
        </Section>
        <AddDevice api={api} onCreated={onSecret} />
      </div>
      {config === null ? null : <DeviceConfigEditor api={api} uuid={config} eventId={props.state.events[0]?.id ?? 0} />}
    </>
  )
}

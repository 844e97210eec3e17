import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Field, FormError, Section, useAction } from './forms.js'

export const DEVICE_TYPES = ['relay_board', 'display', 'sensor', 'can_bridge', 'emergency_button'] as const
/** The capabilities a type needs for its MQTT rights (a display reads others' state; a button may stop). */
const CAPABILITIES: Record<string, string[]> = { display: ['display'], emergency_button: ['emergency_button'] }

export interface Created { uuid: string, secret: string }

/** `POST /devices`: one request; the answer's secret goes to the provisioning block, shown once. */
export function AddDevice (props: { api: Api, onCreated: (c: Created) => void }): preact.JSX.Element {
  const [name, setName] = useState('')
  const [type, setType] = useState<string>('relay_board')
  const [uuid, setUuid] = useState('')
  const act = useAction()
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const id = uuid.trim()
    const body = { name, type, capabilities: CAPABILITIES[type] ?? [], ...(id === '' ? {} : { uuid: id }) }
    let created: Created | undefined
    const ok = await act.run(async () => { created = await props.api.call<Created>('POST', '/devices', body) })
    if (ok && created !== undefined) {
      setName('')
      setUuid('')
      props.onCreated(created)
    }
  }
  return (
    <Section title='Add a device' testid='device-add'>
      <form class='form' onSubmit={e => { void submit(e) }} noValidate>
        <Field label='Name' field='/name' errors={act.errors}>
          {a => <input {...a} name='name' value={name} onInput={e => setName(e.currentTarget.value)} />}
        </Field>
        <Field label='Type' field='/type' errors={act.errors}>
          {a => (
            <select {...a} name='type' value={type} onChange={e => setType(e.currentTarget.value)}>
              {DEVICE_TYPES.map(t => <option key={t} value={t}>{t}</option>)}
            </select>
          )}
        </Field>
        <Field label='UUID (empty: a new one)' field='/uuid' errors={act.errors}>
          {a => (
            <input
              {...a} name='uuid' value={uuid} autocapitalize='none' onInput={e => setUuid(e.currentTarget.value)}
            />
          )}
        </Field>
        <FormError errors={act.errors} />
        <button class='btn btn-primary' type='submit' data-testid='device-add-submit' disabled={act.busy}>
          Add device
        </button>
      </form>
    </Section>
  )
}

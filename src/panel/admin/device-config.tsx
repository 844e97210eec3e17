import { useEffect, useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Field, FieldFailure, FormError, Section, useAction } from './forms.js'

interface DeviceConfig {
  uuid: string
  version: number
  appliedVersion: number | null
  lagging: boolean
  config: object
}

/**
 * A device's config: the version pushed (retained on its config topic) beside the version the device reports
 * applied; saved with `expectedVersion`, so a second admin's change in between is a conflict, not lost.
 */
export function DeviceConfigEditor (props: { api: Api, uuid: string, eventId: number }): preact.JSX.Element {
  const [current, setCurrent] = useState<DeviceConfig | null>(null)
  const [text, setText] = useState('')
  const [dirty, setDirty] = useState(false)
  const act = useAction()
  useEffect(() => {
    props.api.call<DeviceConfig>('GET', `/devices/${encodeURIComponent(props.uuid)}/config`).then(c => {
      setCurrent(c)
      if (!dirty) setText(JSON.stringify(c.config, null, 2))
    }, () => {})
  }, [props.uuid, props.eventId])
  const save = async (): Promise<void> => {
    if (current === null) return
    await act.run(async () => {
      let config: unknown
      try {
        config = JSON.parse(text)
      } catch (err) {
        throw new FieldFailure('/config', `is not JSON: ${(err as Error).message}`)
      }
      const body = { config, expectedVersion: current.version }
      const path = `/devices/${encodeURIComponent(props.uuid)}/config`
      const r = await props.api.call<{ version: number }>('PUT', path, body)
      setCurrent({ ...current, version: r.version, config: config as object })
      setDirty(false)
    })
  }
  const applied = current?.appliedVersion ?? null
  return (
    <Section title={`Config of ${props.uuid}`} testid='device-config'>
      <div class='versions'>
        <span data-testid='config-pushed'>Pushed <b>v{current?.version ?? '…'}</b></span>
        <span data-testid='config-applied' class={current?.lagging === true ? 'warn-ink' : ''}>
          Applied <b>{applied === null ? 'not reported' : `v${applied}`}</b>
        </span>
      </div>
      <Field label='Config (JSON)' field='/config' errors={act.errors}>
        {a => (
          <textarea
            {...a} class='code' rows={8} value={text} spellcheck={false}
            onInput={e => { setText(e.currentTarget.value); setDirty(true) }}
          />
        )}
      </Field>
      <FormError errors={act.errors} />
      <button
        class='btn btn-primary' data-testid='config-save' disabled={act.busy || !dirty}
        onClick={() => { void save() }}
      >
        Push config
      </button>
    </Section>
  )
}

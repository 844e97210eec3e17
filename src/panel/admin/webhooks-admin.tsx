import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Placeholder } from '../components/ui.js'
import type { Panel } from '../controller.js'
import { clock } from '../format.js'
import type { Page, PanelState } from '../model.js'
import { Field, FormError, Section, useAction } from './forms.js'
import { useResource } from './use-resource.js'

interface Webhook { id: number, url: string, events: string[], minLevel: string, enabled: boolean, circuit: string }
interface Delivery {
  id: number
  eventType: string
  status: string
  attempts: number
  lastError: string | null
  createdAt: string
}

/** A webhook: enable/disable, a test delivery, and its delivery log (read again on every event). */
function WebhookRow (props: { api: Api, w: Webhook, state: PanelState, done: () => void }): preact.JSX.Element {
  const { api, w } = props
  const act = useAction()
  const log = useResource<Page<Delivery>>(api, `/webhooks/${w.id}/deliveries?limit=10`, props.state)
  const go = (fn: () => Promise<unknown>): void => {
    void act.run(fn).then(() => {
      props.done()
      log.reload()
    })
  }
  return (
    <li class='row webhook-row' data-webhook={w.id} data-enabled={String(w.enabled)}>
      <span class='row-main'>
        <strong>{w.url}</strong>
        <span class='hint'>
          {w.events.join(', ')} · from {w.minLevel} · circuit {w.circuit}{w.enabled ? '' : ' · disabled'}
        </span>
      </span>
      <span class='row-actions'>
        <button
          class='btn' data-testid='webhook-test'
          onClick={() => go(async () => await api.call('POST', `/webhooks/${w.id}/test`))}
        >
          Test delivery
        </button>
        <button
          class='btn' data-testid='webhook-enable'
          onClick={() => go(async () => await api.call('PATCH', `/webhooks/${w.id}`, { enabled: !w.enabled }))}
        >{w.enabled ? 'Disable' : 'Enable'}
        </button>
      </span>
      <FormError errors={act.errors} />
      <ul class='rows deliveries' data-testid='webhook-deliveries'>
        {(log.data?.items ?? []).map(d => (
          <li key={d.id} class='row' data-delivery={d.id} data-status={d.status}>
            <span class='row-main'>
              <strong>{d.eventType} · {d.status}</strong>
              <span class='hint'>
                {clock(d.createdAt, props.state.now)} · {d.attempts} attempts
                {d.lastError === null ? '' : ` · ${d.lastError}`}
              </span>
            </span>
          </li>
        ))}
      </ul>
    </li>
  )
}

function AddWebhook (props: { api: Api, done: () => void }): preact.JSX.Element {
  const [url, setUrl] = useState('')
  const [events, setEvents] = useState('*')
  const act = useAction()
  const submit = (e: Event): void => {
    e.preventDefault()
    const body = { url, events: events.split(',').map(x => x.trim()).filter(x => x !== '') }
    void act.run(async () => await props.api.call('POST', '/webhooks', body)).then(ok => {
      if (!ok) return
      setUrl('')
      props.done()
    })
  }
  return (
    <Section title='Add a webhook' testid='webhook-add'>
      <form class='form' onSubmit={submit} noValidate>
        <Field label='URL' field='/url' errors={act.errors}>
          {a => <input {...a} name='url' type='url' value={url} onInput={e => setUrl(e.currentTarget.value)} />}
        </Field>
        <Field label='Events (comma separated, * for all)' field='/events' errors={act.errors}>
          {a => <input {...a} name='events' value={events} onInput={e => setEvents(e.currentTarget.value)} />}
        </Field>
        <FormError errors={act.errors} />
        <button class='btn btn-primary' type='submit' data-testid='webhook-add-submit' disabled={act.busy}>
          Add webhook
        </button>
      </form>
    </Section>
  )
}

/** Webhooks: add, enable/disable, test delivery and the delivery log. */
export function WebhooksAdmin (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const api = props.panel.rest
  const hooks = useResource<Page<Webhook>>(api, '/webhooks?limit=500', props.state)
  if (api === null) return <Placeholder>Not logged in.</Placeholder>
  return (
    <div class='admin-cols'>
      <Section title='Webhooks' testid='webhook-list'>
        <ul class='rows'>
          {(hooks.data?.items ?? []).map(w => (
            <WebhookRow key={`${w.id}:${String(w.enabled)}`} api={api} w={w} state={props.state} done={hooks.reload} />
          ))}
        </ul>
      </Section>
      <AddWebhook api={api} done={hooks.reload} />
    </div>
  )
}

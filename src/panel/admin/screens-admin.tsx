import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Placeholder } from '../components/ui.js'
import type { Panel } from '../controller.js'
import type { Page, PanelState, RelayItem } from '../model.js'
import { CreateByName, Field, FormError, inkOn, Section, useAction } from './forms.js'
import { useResource } from './use-resource.js'

interface Item { id: number, itemType: string, label: string, position: number, relayChannelId: number | null }
interface Screen { id: number, name: string, title: string, deviceType: string | null, items?: Item[] }
interface ActiveTheme { colors: Record<string, string> }

const ITEM_TYPES = ['button', 'switch', 'gauge', 'display'] as const

/** The screen as a display draws it, in the active theme's colours. */
function Preview (props: { s: Screen, items: Item[], theme: ActiveTheme | null }): preact.JSX.Element {
  const c = props.theme?.colors ?? {}
  return (
    <figure
      class='screen-preview' data-testid='screen-preview'
      style={{ background: c.background ?? '#07090c', color: c.text_primary ?? '#f5f7fa' }}
    >
      <figcaption>{props.s.title}</figcaption>
      <div class='screen-preview-items'>
        {props.items.map(i => (
          <span
            key={i.id} class='screen-preview-item' data-item={i.id}
            style={{ background: c.primary ?? '#4aa3ff', color: inkOn(c.primary ?? '#4aa3ff') }}
          >
            {i.label}
          </span>
        ))}
      </div>
    </figure>
  )
}

interface EditorProps { api: Api, s: Screen, relays: RelayItem[], theme: ActiveTheme | null, state: PanelState }

function ScreenEditor (props: EditorProps): preact.JSX.Element {
  const { api, s } = props
  const loaded = useResource<Screen>(api, `/screens/${s.id}`, props.state)
  const [order, setOrder] = useState<Item[] | null>(null)
  const [drag, setDrag] = useState<number | null>(null)
  const [label, setLabel] = useState('')
  const [relay, setRelay] = useState('')
  const [type, setType] = useState('button')
  const act = useAction()
  const items = order ?? [...(loaded.data?.items ?? [])].sort((a, b) => a.position - b.position)
  /** The new order; each item whose position changed is one PATCH of its own. */
  const place = (from: number, to: number): void => {
    if (from === to || to < 0 || to >= items.length) return
    const next = [...items]
    const [moved] = next.splice(from, 1)
    next.splice(to, 0, moved)
    const placed = next.map((i, n) => ({ ...i, position: n }))
    setOrder(placed)
    const changed = placed.filter(i => items.find(x => x.id === i.id)?.position !== i.position)
    void act.run(async () => {
      for (const i of changed) await api.call('PATCH', `/screens/items/${i.id}`, { position: i.position })
    }).then(() => loaded.reload())
  }
  const add = (e: Event): void => {
    e.preventDefault()
    const bound = relay === '' ? {} : { relayChannelId: Number(relay) }
    const body = { itemType: type, label, position: items.length, ...bound }
    void act.run(async () => await api.call('POST', `/screens/${s.id}/items`, body)).then(ok => {
      if (!ok) return
      setLabel('')
      setOrder(null)
      loaded.reload()
    })
  }
  return (
    <Section title={`Screen: ${s.name}`} testid='screen-editor'>
      <Preview s={s} items={items} theme={props.theme} />
      <ol class='rows' data-testid='screen-items'>
        {items.map((i, n) => (
          <li
            key={i.id} class={`row screen-item ${drag === n ? 'is-dragging' : ''}`} data-item={i.id} draggable
            onDragStart={e => {
              setDrag(n)
              e.dataTransfer?.setData('text/plain', String(n))
            }}
            onDragOver={e => e.preventDefault()}
            onDrop={e => {
              e.preventDefault()
              if (drag !== null) place(drag, n)
              setDrag(null)
            }}
          >
            <span class='row-main'>
              <strong>{i.label}</strong>
              <span class='hint'>{i.itemType} {props.relays.find(r => r.id === i.relayChannelId)?.name ?? ''}</span>
            </span>
            <span class='row-actions'>
              <button
                class='btn' type='button' aria-label={`Move ${i.label} up`} disabled={n === 0}
                onClick={() => place(n, n - 1)}
              >↑
              </button>
              <button
                class='btn' type='button' aria-label={`Move ${i.label} down`} disabled={n === items.length - 1}
                onClick={() => place(n, n + 1)}
              >↓
              </button>
            </span>
          </li>
        ))}
      </ol>
      <form class='channel-form' onSubmit={add} noValidate data-testid='screen-item-add'>
        <Field label='Item' field='/itemType' errors={act.errors}>
          {a => (
            <select {...a} name='itemType' value={type} onChange={e => setType(e.currentTarget.value)}>
              {ITEM_TYPES.map(t => <option key={t} value={t}>{t}</option>)}
            </select>
          )}
        </Field>
        <Field label='Label' field='/label' errors={act.errors}>
          {a => <input {...a} name='label' value={label} onInput={e => setLabel(e.currentTarget.value)} />}
        </Field>
        <Field label='Relay channel' field='/relayChannelId' errors={act.errors}>
          {a => (
            <select {...a} name='relay' value={relay} onChange={e => setRelay(e.currentTarget.value)}>
              <option value=''>none</option>
              {props.relays.map(r => <option key={r.id} value={String(r.id)}>{r.deviceName} · {r.name}</option>)}
            </select>
          )}
        </Field>
        <button class='btn btn-primary' type='submit' data-testid='screen-item-add-submit' disabled={act.busy}>
          Add item
        </button>
      </form>
      <FormError errors={act.errors} />
    </Section>
  )
}

/** Screens of the displays: items ordered by drag and drop (or ↑/↓), previewed in the active theme. */
export function ScreensAdmin (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const api = props.panel.rest
  const screens = useResource<Page<Screen>>(api, '/screens?limit=500', props.state, 10_000)
  const relays = useResource<Page<RelayItem>>(api, '/relays?limit=500', props.state)
  const theme = useResource<ActiveTheme>(api, '/themes/active', props.state, 10_000)
  const [selected, setSelected] = useState<number | null>(null)
  if (api === null) return <Placeholder>Not logged in.</Placeholder>
  const items = screens.data?.items ?? []
  const s = items.find(x => x.id === selected) ?? items[0]
  return (
    <>
      <div class='chips' role='tablist' aria-label='screen'>
        {items.map(x => (
          <button
            key={x.id} role='tab' class='chip' data-screen={x.id} aria-selected={x.id === s?.id}
            onClick={() => setSelected(x.id)}
          >
            {x.name}
          </button>
        ))}
      </div>
      {s === undefined
        ? null
        : (
          <ScreenEditor
            key={s.id} api={api} s={s} relays={relays.data?.items ?? []} theme={theme.data} state={props.state}
          />
          )}
      <CreateByName
        kind='screen' label='New screen (for displays)'
        create={async name => {
          const body = { name, title: name, deviceType: 'display' }
          return (await api.call<Screen>('POST', '/screens', body)).id
        }}
        done={id => {
          setSelected(id)
          screens.reload()
        }}
      />
    </>
  )
}

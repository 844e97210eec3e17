import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Placeholder } from '../components/ui.js'
import type { Panel } from '../controller.js'
import type { Page, PanelState } from '../model.js'
import { CreateByName, Field, FormError, inkOn, Section, useAction } from './forms.js'
import { useResource } from './use-resource.js'

interface Theme {
  id: number
  name: string
  isActive: boolean
  colors: Record<string, string>
  fonts: Record<string, string | number> | null
  deviceOverrides: Record<string, { colors?: Record<string, string>, fonts?: Record<string, string | number> }> | null
}

/** The colours the panel and the displays read (theme.ts), offered even when the theme lacks them. */
const KNOWN = [
  'primary', 'secondary', 'background', 'surface', 'success', 'warning', 'error', 'text_primary', 'text_secondary'
]
const PREVIEW_TYPES = ['panel', 'display'] as const

/** A device type's look: the base colours and fonts with its override merged over them (as the gateway does). */
function merged (
  t: Theme, colors: Record<string, string>, size: string, type: string
): { c: Record<string, string>, size: number } {
  const o = t.deviceOverrides?.[type]
  const base = Number(size)
  const own = Number(o?.fonts?.size_base)
  const px = Number.isFinite(own) && own > 0 ? own : Number.isFinite(base) && base > 0 ? base : 16
  return { c: { ...colors, ...(o?.colors ?? {}) }, size: px }
}

/** The theme as a device type sees it, redrawn on every keystroke. */
function Preview (props: { t: Theme, colors: Record<string, string>, size: string, type: string }): preact.JSX.Element {
  const { c, size } = merged(props.t, props.colors, props.size, props.type)
  const primary = c.primary ?? '#4aa3ff'
  const error = c.error ?? '#ff4d42'
  return (
    <figure
      class='theme-preview' data-preview={props.type}
      style={{ background: c.background ?? '#07090c', color: c.text_primary ?? '#f5f7fa', fontSize: `${size}px` }}
    >
      <figcaption>{props.type}</figcaption>
      <div class='theme-preview-card' style={{ background: c.surface ?? '#12171e' }}>
        <span style={{ color: c.text_secondary ?? c.text_primary }}>Headlights</span>
        <span class='theme-preview-btn' style={{ background: primary, color: inkOn(primary) }}>ON</span>
        <span class='theme-preview-btn' style={{ background: error, color: inkOn(error) }}>STOP</span>
      </div>
    </figure>
  )
}

function ThemeEditor (props: { api: Api, t: Theme, done: () => void }): preact.JSX.Element {
  const { api, t } = props
  const [colors, setColors] = useState<Record<string, string>>({ ...t.colors })
  const [size, setSize] = useState(String(t.fonts?.size_base ?? ''))
  const act = useAction()
  const keys = [...new Set([...KNOWN, ...Object.keys(colors)])]
  const save = (e: Event): void => {
    e.preventDefault()
    const fonts = { ...(t.fonts ?? {}), ...(size.trim() === '' ? {} : { size_base: Number(size) }) }
    const body = { colors, fonts: Object.keys(fonts).length === 0 ? null : fonts }
    void act.run(async () => await api.call('PATCH', `/themes/${t.id}`, body)).then(props.done)
  }
  return (
    <Section title={`Theme: ${t.name}${t.isActive ? ' (active)' : ''}`} testid='theme-editor'>
      <div class='theme-previews'>
        {PREVIEW_TYPES.map(type => <Preview key={type} t={t} colors={colors} size={size} type={type} />)}
      </div>
      <form class='channel-form' onSubmit={save} noValidate>
        {keys.map(k => (
          <Field key={k} label={k} field={`/colors/${k}`} errors={act.errors}>
            {a => (
              <input
                {...a} name={`color-${k}`} value={colors[k] ?? ''} placeholder='#RRGGBB'
                onInput={e => {
                  const v = e.currentTarget.value
                  const next = { ...colors }
                  if (v === '') delete next[k]
                  else next[k] = v
                  setColors(next)
                }}
              />
            )}
          </Field>
        ))}
        <Field label='Base font size' field='/fonts/size_base' errors={act.errors}>
          {a => <input {...a} name='size_base' value={size} onInput={e => setSize(e.currentTarget.value)} />}
        </Field>
        <span class='row-actions'>
          <button class='btn btn-primary' type='submit' data-testid='theme-save' disabled={act.busy}>Save</button>
          {t.isActive
            ? null
            : (
              <button
                class='btn' type='button' data-testid='theme-activate'
                onClick={() => {
                  void act.run(async () => await api.call('POST', `/themes/${t.id}/activate`)).then(props.done)
                }}
              >Activate
              </button>
              )}
        </span>
      </form>
      <FormError errors={act.errors} />
    </Section>
  )
}

/** Themes: colours and base size with a live preview per device type, activate (retained to every device). */
export function ThemesAdmin (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const api = props.panel.rest
  const themes = useResource<Page<Theme>>(api, '/themes?limit=500', props.state, 10_000)
  const [selected, setSelected] = useState<number | null>(null)
  if (api === null) return <Placeholder>Not logged in.</Placeholder>
  const items = themes.data?.items ?? []
  const t = items.find(x => x.id === selected) ?? items.find(x => x.isActive) ?? items[0]
  return (
    <>
      <div class='chips' role='tablist' aria-label='theme'>
        {items.map(x => (
          <button
            key={x.id} role='tab' class='chip' data-theme={x.id} aria-selected={x.id === t?.id}
            onClick={() => setSelected(x.id)}
          >
            {x.name}{x.isActive ? ' ✓' : ''}
          </button>
        ))}
      </div>
      {themes.error !== null ? <Placeholder tone='error'>Themes: {themes.error}</Placeholder> : null}
      {t === undefined
        ? null
        : <ThemeEditor key={`${t.id}:${JSON.stringify(t)}`} api={api} t={t} done={themes.reload} />}
      <CreateByName
        kind='theme' label='New theme (a copy of the one shown)'
        create={async name => {
          const colors = t?.colors ?? { primary: '#4aa3ff', background: '#07090c' }
          return (await api.call<Theme>('POST', '/themes', { name, colors })).id
        }}
        done={id => {
          setSelected(id)
          themes.reload()
        }}
      />
    </>
  )
}

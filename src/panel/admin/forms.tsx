import type { ComponentChildren } from 'preact'
import { useId, useState } from 'preact/hooks'
import { ApiError } from '../api.js'
import { contrast } from '../theme.js'

/** What a failed request said: messages by field (the API's JSON pointer, `/name`), and the rest for the form. */
export interface FormErrors { fields: Record<string, string>, form: string | null }
export const NO_ERRORS: FormErrors = { fields: {}, form: null }

/** A field the page itself refuses before asking the API (a config that is not JSON). */
export class FieldFailure extends Error {
  constructor (readonly field: string, message: string) { super(message) }
}

export function errorsOf (err: unknown): FormErrors {
  if (err instanceof FieldFailure) return { fields: { [err.field]: err.message }, form: null }
  if (!(err instanceof ApiError)) return { fields: {}, form: err instanceof Error ? err.message : String(err) }
  const fields: Record<string, string> = {}
  for (const d of err.details) if (d.in === 'body') fields[d.field] = fields[d.field] ?? d.message
  // A message the API could not pin on a field (a conflict, a 404) stays on the form, with its code.
  return { fields, form: Object.keys(fields).length > 0 ? null : `${err.message} (${err.code})` }
}

/** One request at a time per form; its errors are kept until the next try. */
export function useAction (): {
  busy: boolean
  errors: FormErrors
  run: (fn: () => Promise<unknown>) => Promise<boolean>
  reset: () => void
} {
  const [busy, setBusy] = useState(false)
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS)
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true)
    setErrors(NO_ERRORS)
    try {
      await fn()
      return true
    } catch (err) {
      setErrors(errorsOf(err))
      return false
    } finally {
      setBusy(false)
    }
  }
  return { busy, errors, run, reset: () => setErrors(NO_ERRORS) }
}

/**
 * A labelled control with the API's message for its field under it (`field` is the body pointer the API names,
 * e.g. `/name` or `/actions/0/params/ms`), tied to the control by aria-describedby.
 */
export function Field (props: {
  label: string
  field: string
  errors: FormErrors
  children: (attrs: { id: string, 'aria-invalid'?: 'true', 'aria-describedby'?: string }) => ComponentChildren
}): preact.JSX.Element {
  const id = useId()
  const error = props.errors.fields[props.field]
  const attrs = error === undefined ? { id } : { id, 'aria-invalid': 'true' as const, 'aria-describedby': `${id}-err` }
  return (
    <div class={`field ${error === undefined ? '' : 'has-error'}`} data-field={props.field}>
      <label for={id}>{props.label}</label>
      {props.children(attrs)}
      {error === undefined ? null : <p class='field-error' id={`${id}-err`}>{error}</p>}
    </div>
  )
}

export function FormError (props: { errors: FormErrors }): preact.JSX.Element | null {
  if (props.errors.form === null) return null
  return <p class='form-error' role='alert' data-testid='form-error'>{props.errors.form}</p>
}

/** A section of an admin view. */
export function Section (props: { title: string, children: ComponentChildren, testid?: string }): preact.JSX.Element {
  return (
    <section class='card admin-panel' data-testid={props.testid}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  )
}

export const bytes = (n: number | null): string => {
  if (n === null) return '—'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`
}

/** Black or white text, whichever reads better on a theme's colour (as the panel does on its own buttons). */
export function inkOn (bg: string): string {
  return (contrast(bg, '#000000') ?? 21) >= (contrast(bg, '#ffffff') ?? 0) ? '#000' : '#fff'
}

/**
 * A one-field form that creates something by name (a macro, a screen, a theme): `create` makes the request and
 * answers the new id; the API's 400 shows under the name. `kind` names its test ids and input (`macro-new`).
 */
export function CreateByName (props: {
  kind: string
  label: string
  create: (name: string) => Promise<number>
  done: (id: number) => void
}): preact.JSX.Element {
  const [name, setName] = useState('')
  const act = useAction()
  const submit = (e: Event): void => {
    e.preventDefault()
    let id = 0
    void act.run(async () => { id = await props.create(name) }).then(ok => { if (ok) props.done(id) })
  }
  return (
    <form class='form' onSubmit={submit} noValidate data-testid={`${props.kind}-new`}>
      <Field label={props.label} field='/name' errors={act.errors}>
        {a => <input {...a} name={`${props.kind}-name`} value={name} onInput={e => setName(e.currentTarget.value)} />}
      </Field>
      <FormError errors={act.errors} />
      <button class='btn' type='submit' data-testid={`${props.kind}-new-submit`} disabled={act.busy}>Create</button>
    </form>
  )
}

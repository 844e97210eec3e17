import { useState } from 'preact/hooks'
import type { Api } from '../api.js'
import { Placeholder } from '../components/ui.js'
import type { Panel } from '../controller.js'
import type { Page, PanelState, Role } from '../model.js'
import { Field, FormError, Section, useAction, type FormErrors } from './forms.js'
import { useResource } from './use-resource.js'

interface User { username: string, role: Role, enabled: boolean, lastLoginAt: string | null }
const ROLES: Role[] = ['viewer', 'operator', 'admin']

function RoleSelect (props: { value: string, set: (v: string) => void, attrs: object }): preact.JSX.Element {
  return (
    <select {...props.attrs} name='role' value={props.value} onChange={e => props.set(e.currentTarget.value)}>
      {ROLES.map(r => <option key={r} value={r}>{r}</option>)}
    </select>
  )
}

/** One user: role, enabled and a new password, each one PATCH. */
function UserRow (props: { api: Api, u: User, me: string, done: () => void }): preact.JSX.Element {
  const { api, u } = props
  const [password, setPassword] = useState('')
  const act = useAction()
  const path = `/users/${encodeURIComponent(u.username)}`
  const patch = (body: Record<string, unknown>): void => {
    void act.run(async () => await api.call('PATCH', path, body)).then(ok => {
      if (ok) setPassword('')
      props.done()
    })
  }
  return (
    <li class='row user-row' data-user={u.username} data-role={u.role} data-enabled={String(u.enabled)}>
      <span class='row-main'>
        <strong>{u.username}{u.username === props.me ? ' (you)' : ''}</strong>
        <span class='hint'>{u.enabled ? 'enabled' : 'disabled'}</span>
      </span>
      <form class='channel-form' noValidate onSubmit={e => { e.preventDefault(); patch({ password }) }}>
        <Field label='Role' field='/role' errors={act.errors}>
          {a => <RoleSelect attrs={a} value={u.role} set={role => patch({ role })} />}
        </Field>
        <NewPassword label='New password' errors={act.errors} value={password} set={setPassword} />
        <span class='row-actions'>
          <button class='btn' type='submit' data-testid='user-password' disabled={act.busy || password === ''}>
            Set password
          </button>
          <button class='btn' type='button' data-testid='user-enable' onClick={() => patch({ enabled: !u.enabled })}>
            {u.enabled ? 'Disable' : 'Enable'}
          </button>
        </span>
      </form>
      <FormError errors={act.errors} />
    </li>
  )
}

/** A password field of the users view: a new password, never the browser's saved one. */
function NewPassword (
  props: { label: string, errors: FormErrors, value: string, set: (value: string) => void }
): preact.JSX.Element {
  return (
    <Field label={props.label} field='/password' errors={props.errors}>
      {a => (
        <input
          {...a} type='password' name='password' autocomplete='new-password' value={props.value}
          onInput={e => props.set(e.currentTarget.value)}
        />
      )}
    </Field>
  )
}

function AddUser (props: { api: Api, done: () => void }): preact.JSX.Element {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<string>('operator')
  const act = useAction()
  const submit = (e: Event): void => {
    e.preventDefault()
    void act.run(async () => await props.api.call('POST', '/users', { username, password, role })).then(ok => {
      if (!ok) return
      setUsername('')
      setPassword('')
      props.done()
    })
  }
  return (
    <Section title='Add a user' testid='user-add'>
      <form class='form' onSubmit={submit} noValidate>
        <Field label='User name' field='/username' errors={act.errors}>
          {a => (
            <input
              {...a} name='username' autocapitalize='none' value={username}
              onInput={e => setUsername(e.currentTarget.value)}
            />
          )}
        </Field>
        <NewPassword label='Password' errors={act.errors} value={password} set={setPassword} />
        <Field label='Role' field='/role' errors={act.errors}>
          {a => <RoleSelect attrs={a} value={role} set={setRole} />}
        </Field>
        <FormError errors={act.errors} />
        <button class='btn btn-primary' type='submit' data-testid='user-add-submit' disabled={act.busy}>
          Add user
        </button>
      </form>
    </Section>
  )
}

/** Users: add, role, disable, a new password (also one's own: the initial admin password is changed here). */
export function UsersAdmin (props: { panel: Panel, state: PanelState }): preact.JSX.Element {
  const api = props.panel.rest
  const users = useResource<Page<User>>(api, '/users?limit=500', props.state)
  if (api === null) return <Placeholder>Not logged in.</Placeholder>
  return (
    <div class='admin-cols'>
      <Section title='Users' testid='user-list'>
        {users.error !== null ? <Placeholder tone='error'>Users: {users.error}</Placeholder> : null}
        <ul class='rows'>
          {(users.data?.items ?? []).map(u => (
            <UserRow
              key={`${u.username}:${u.role}:${String(u.enabled)}`} api={api} u={u} done={users.reload}
              me={props.state.session?.username ?? ''}
            />
          ))}
        </ul>
      </Section>
      <AddUser api={api} done={users.reload} />
    </div>
  )
}

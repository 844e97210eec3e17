import { useState } from 'preact/hooks'
import { ApiError } from '../api.js'
import type { Panel } from '../controller.js'

/** A required input under its label, as the login form shows it. */
function LabeledInput (
  props: { label: string, set: (value: string) => void } & preact.InputHTMLAttributes<HTMLInputElement>
): preact.JSX.Element {
  const { label, set, ...attrs } = props
  return (
    <label>
      {label}
      <input {...attrs} onInput={e => set(e.currentTarget.value)} required />
    </label>
  )
}

export function Login (props: { panel: Panel, notice: string | null }): preact.JSX.Element {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await props.panel.login(username.trim(), password)
    } catch (err) {
      setError(err instanceof ApiError
        ? err.code === 'GW_ERR_AUTH_THROTTLED'
          ? 'Too many failed attempts. Wait a minute and try ' +
          'again.'
          : err.status === 401 ? 'Wrong user name or password.' : err.message
        : 'The gateway does not answer. Check the Wi-Fi connection.')
      setBusy(false)
    }
  }
  return (
    <main class='login'>
      <form
        class='login-card'
        onSubmit={e => {
          void submit(e)
        }}
      >
        <div class='brand brand-big'>
          <span class='brand-mark' />
          AutoCore
        </div>
        <p class='login-sub'>Vehicle control panel</p>
        {props.notice !== null
          ? (
            <p class='notice' role='status'>
              {props.notice}
            </p>
            )
          : null}
        <LabeledInput
          label='User name'
          name='username'
          autocomplete='username'
          autocapitalize='none'
          value={username}
          set={setUsername}
        />
        <LabeledInput
          label='Password'
          name='password'
          type='password'
          autocomplete='current-password'
          value={password}
          set={setPassword}
        />
        {error !== null
          ? (
            <p class='form-error' role='alert'>
              {error}
            </p>
            )
          : null}
        <button class='btn btn-primary btn-block' type='submit' disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  )
}

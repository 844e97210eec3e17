import { useState } from 'preact/hooks'
import { ApiError } from '../api.js'
import type { Panel } from '../controller.js'

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
        <label>
          User name
          <input
            name='username'
            autocomplete='username'
            autocapitalize='none'
            value={username}
            onInput={e => setUsername(e.currentTarget.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name='password'
            type='password'
            autocomplete='current-password'
            value={password}
            onInput={e => setPassword(e.currentTarget.value)}
            required
          />
        </label>
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

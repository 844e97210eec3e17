import type { Test } from 'tap'
import { startApp, type RunningApp } from './app.js'
import { addChannels, type ChannelSpec } from './boards.js'
import { createUser, provisionDevice } from './devices.js'
import { gatewayEnv, runGateway, type GatewayProcess } from './process.js'

/** Helpers of the restart matrix (issue 14): the real process, restarted on one data dir. */

export interface Provisioned { uuid: string, secret: string, channels: number[], ids: Record<number, number> }

/** Runs `setup` against an in-process gateway on `dataDir`, stopped again before the real process starts. */
export async function prepare<T> (t: Test, dataDir: string, setup: (app: RunningApp) => Promise<T>): Promise<T> {
  const app = await startApp(t, { dataDir })
  const out = await setup(app)
  await app.stop()
  return out
}

export async function relayBoard (app: RunningApp, channels: ChannelSpec[]): Promise<Provisioned> {
  const { uuid, secret } = await provisionDevice(app, { type: 'relay_board' })
  const ids = await addChannels(app, uuid, channels)
  return { uuid, secret, channels: channels.map(c => c.channel), ids }
}

export async function operatorAndAdmin (
  app: RunningApp
): Promise<{ operator: { username: string, password: string }, admin: { username: string, password: string } }> {
  return { operator: await createUser(app, { role: 'operator' }), admin: await createUser(app, { role: 'admin' }) }
}

export interface Running { gw: GatewayProcess, mqttUrl: string, httpUrl: string }

export async function startProcess (t: Test, dataDir: string, env: Record<string, string>): Promise<Running> {
  const gw = runGateway(t, ['start'], gatewayEnv(dataDir, env))
  const { mqttPort, httpPort } = await gw.waitForLog('gateway started')
  return { gw, mqttUrl: `mqtt://127.0.0.1:${String(mqttPort)}`, httpUrl: `http://127.0.0.1:${String(httpPort)}` }
}

export async function stopWith (r: Running, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  r.gw.child.kill(signal)
  await r.gw.exited
}

/** An HTTP client of one user on one running gateway. */
export async function apiAs (
  r: Running,
  user: { username: string, password: string }
): Promise<(method: string, path: string, body?: unknown) => Promise<{ status: number, body: any }>> {
  const login = await fetch(`${r.httpUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user)
  })
  if (login.status !== 200) throw new Error(`login ${user.username}: ${login.status}`)
  const { token } = await login.json() as { token: string }
  return async (method, path, body) => {
    const res = await fetch(`${r.httpUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
  }
}

/** Polls an async condition in real time; fails after `ms` with `what`. */
export async function eventually (what: string, cond: () => Promise<boolean> | boolean, ms = 15000): Promise<void> {
  const end = Date.now() + ms
  while (!await cond()) {
    if (Date.now() > end) throw new Error(`not in time: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

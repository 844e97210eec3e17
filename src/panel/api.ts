import type { DeviceItem, EmergencyState, EventItem, MacroItem, Page, RelayItem } from './model.js'
import type { LoginAnswer } from './session.js'

/** A field the API's validation names: `field` is a JSON pointer into the body (`/name`) or a parameter's name. */
export interface FieldError { in: string, field: string, message: string }

export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly details: FieldError[] = []) {
    super(message)
  }
}

async function failure (res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`
  let message = res.statusText
  let details: FieldError[] = []
  try {
    const body = await res.json() as { error?: { code?: string, message?: string, details?: unknown } }
    code = body.error?.code ?? code
    message = body.error?.message ?? message
    if (Array.isArray(body.error?.details)) details = body.error.details as FieldError[]
  } catch {
    // Not the gateway's JSON error (a proxy, a missing route on an older gateway): the status says enough.
  }
  return new ApiError(res.status, code, message, details)
}

/** `POST /api/v1/auth/login`; the Date header lets the session correct for clock skew. */
export async function login (
  username: string,
  password: string
): Promise<{ answer: LoginAnswer, serverDate: string | null }> {
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password })
  })
  if (!res.ok) throw await failure(res)
  return { answer: await res.json() as LoginAnswer, serverDate: res.headers.get('date') }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * The /api/v1 routes the panel reads and calls, with the Bearer token; a 401 calls `onUnauthorized` (back to login).
 */
export class Api {
  constructor (
    private readonly token: string,
    private readonly onUnauthorized: () => void
  ) {}

  private async fetch (method: Method, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    if (res.status === 401) this.onUnauthorized()
    if (!res.ok) throw await failure(res)
    return res
  }

  /** Any /api/v1 route (the admin views call the resource routes directly: one change, one request). */
  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body)
    return (res.status === 204 ? {} : await res.json()) as T
  }

  /** A file answer (a backup), as a Blob the page offers for saving. */
  async blob (path: string): Promise<Blob> {
    return await (await this.fetch('GET', path)).blob()
  }

  me = async (): Promise<{ username: string, role: string }> => await this.call('GET', '/auth/me')
  devices = async (): Promise<Page<DeviceItem>> => await this.call('GET', '/devices?limit=500')
  relays = async (): Promise<Page<RelayItem>> => await this.call('GET', '/relays?limit=500')
  macros = async (): Promise<Page<MacroItem>> => await this.call('GET', '/macros?limit=500')
  events = async (limit: number): Promise<Page<EventItem>> => await this.call('GET', `/events?limit=${limit}`)
  emergency = async (): Promise<EmergencyState> => await this.call('GET', '/emergency')
  latest = async (
    uuid: string
  ): Promise<{
    readings: Array<{ key: string, value: number | boolean | string | null, unit: string | null, ts: number }>
  }> => await this.call('GET', `/telemetry/${encodeURIComponent(uuid)}/latest`)

  series = async (
    uuid: string,
    key: string,
    from: number,
    to: number
  ): Promise<{ points: Array<{ t: number, avg: number, last: number }> }> =>
    await this.call(
      'GET',
      `/telemetry/${encodeURIComponent(uuid)}/series?key=${encodeURIComponent(key)}&from=${from}&to=${to}&bucket=1m`
    )

  executeMacro = async (id: number): Promise<unknown> => await this.call('POST', `/macros/${id}/execute`)
  cancelMacro = async (id: number): Promise<unknown> => await this.call('POST', `/macros/${id}/cancel`)
  emergencyStop = async (reason: string): Promise<unknown> => await this.call('POST', '/emergency/stop', { reason })
}

import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import mqtt from 'mqtt'
import { readHealthToken } from '../auth/health-token.js'
import { topics } from '../gateway/topics.js'
import type { Config } from '../config/types.js'
import type { HealthReport } from '../api/routes/health.js'
import { configFor, EXIT, type CliIo } from './io.js'

export interface HealthOptions { config?: string, url?: string, mqttUrl?: string, json?: boolean, timeout?: string }

interface Check { ok: boolean, ms?: number, error?: string }

function localHost (host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
}

async function withTimeout<T> (what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms) })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function checkHttp (url: string, timeoutMs: number): Promise<Check & { report?: HealthReport }> {
  const t0 = performance.now()
  try {
    const res = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(timeoutMs) })
    const report = await res.json() as HealthReport
    const ms = Math.round(performance.now() - t0)
    return res.ok ? { ok: true, ms, report } : { ok: false, ms, report, error: `status ${res.status}` }
  } catch (err) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    return { ok: false, error: cause?.code ?? cause?.message ?? (err as Error).message }
  }
}

/** Connect, subscribe to a private topic, publish to it and wait for the message to come back. */
async function checkMqtt (url: string, config: Config, timeoutMs: number): Promise<Check> {
  const token = readHealthToken(config)
  if (token === undefined) return { ok: false, error: `no health token (set health.token or run the gateway once to create ${config.dataDir}/health-token)` }
  const clientId = `${config.health.username}-${randomBytes(4).toString('hex')}`
  const topic = topics.health(clientId)
  const nonce = randomBytes(8).toString('hex')
  const t0 = performance.now()
  let client: mqtt.MqttClient | undefined
  try {
    client = await withTimeout('mqtt connect', timeoutMs, mqtt.connectAsync(url, {
      clientId, username: config.health.username, password: token, reconnectPeriod: 0, connectTimeout: timeoutMs, clean: true
    }))
    const c = client
    const echoed = new Promise<void>(resolve => c.on('message', (t, payload) => { if (t === topic && payload.toString() === nonce) resolve() }))
    await withTimeout('mqtt round-trip', timeoutMs, (async () => {
      const granted = await c.subscribeAsync(topic, { qos: 1 })
      if (granted[0]?.qos === 128) throw new Error('health topic subscription refused')
      await c.publishAsync(topic, nonce, { qos: 1 })
      await echoed
    })())
    return { ok: true, ms: Math.round(performance.now() - t0) }
  } catch (err) {
    return { ok: false, error: (err as Error).message }
  } finally {
    client?.end(true)
  }
}

/**
 * `autocore-gateway health`: HTTP /health, an MQTT round-trip and the database (as /health reports it).
 * One line and exit 0 when all answer; what failed and exit 1 otherwise. `--json` prints the details.
 */
export async function health (io: CliIo, opts: HealthOptions): Promise<number> {
  const config = configFor(io, opts.config)
  const timeoutMs = Number(opts.timeout ?? 5000)
  const url = opts.url ?? `http://${localHost(config.http.host)}:${config.http.port}`
  const mqttUrl = opts.mqttUrl ?? `mqtt://${localHost(config.mqtt.host)}:${config.mqtt.port}`

  const [http, mq] = await Promise.all([checkHttp(url, timeoutMs), checkMqtt(mqttUrl, config, timeoutMs)])
  const db: Check = http.report !== undefined
    ? (http.report.db.ok ? { ok: true } : { ok: false, error: 'database does not answer' })
    : { ok: false, error: 'unknown (http failed)' }
  const ok = http.ok && mq.ok && db.ok

  if (opts.json === true) {
    io.out(JSON.stringify({ ok, url, mqttUrl, http, mqtt: mq, db }, null, 2))
  } else if (ok) {
    io.out(`ok: http ${http.ms ?? 0}ms, mqtt round-trip ${mq.ms ?? 0}ms, db ok`)
  } else {
    const failed = [['http', http], ['mqtt', mq], ['db', db]]
      .filter(([, c]) => !(c as Check).ok)
      .map(([name, c]) => `${name as string}: ${(c as Check).error ?? 'failed'}`)
    io.out(`failed: ${failed.join('; ')}`)
  }
  return ok ? EXIT.ok : EXIT.failed
}

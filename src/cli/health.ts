import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import mqtt from 'mqtt'
import { readHealthToken } from '../auth/health-token.js'
import { topics } from '../gateway/topics.js'
import type { Config } from '../config/types.js'
import type { HealthReport } from '../api/routes/health.js'
import { configFor, EXIT, type CliIo } from './io.js'
import { evaluate, parseThresholds } from './health-thresholds.js'

export interface HealthOptions { config?: string, url?: string, mqttUrl?: string, json?: boolean, timeout?: string, warn?: string, crit?: string, wait?: string }

/** Nagios plugin exit codes, used only when --warn or --crit is given. */
export const NAGIOS = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const

interface Check { ok: boolean, ms?: number, error?: string }

export function localHost (host: string): string {
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

interface Checks { ok: boolean, http: Check & { report?: HealthReport }, mq: Check, db: Check }

async function runChecks (url: string, mqttUrl: string, config: Config, timeoutMs: number): Promise<Checks> {
  const [http, mq] = await Promise.all([checkHttp(url, timeoutMs), checkMqtt(mqttUrl, config, timeoutMs)])
  const db: Check = http.report !== undefined
    ? (http.report.db.ok ? { ok: true } : { ok: false, error: 'database does not answer' })
    : { ok: false, error: 'unknown (http failed)' }
  return { ok: http.ok && mq.ok && db.ok, http, mq, db }
}

/** Checks until everything answers or `waitMs` has passed (systemd's ExecStartPost waits for the gateway this way). */
async function checkUntil (url: string, mqttUrl: string, config: Config, timeoutMs: number, waitMs: number): Promise<Checks> {
  const deadline = performance.now() + waitMs
  for (;;) {
    const result = await runChecks(url, mqttUrl, config, timeoutMs)
    if (result.ok || performance.now() >= deadline) return result
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/**
 * `autocore-gateway health`: HTTP /health, an MQTT round-trip and the database (as /health reports it).
 * One line and exit 0 when all answer; what failed and exit 1 otherwise. `--json` prints the details.
 * With --warn/--crit it is a monitoring plugin instead: one Nagios line and exit 0/1/2 (3 for bad thresholds).
 */
export async function health (io: CliIo, opts: HealthOptions): Promise<number> {
  const nagios = opts.warn !== undefined || opts.crit !== undefined
  let warn: Map<string, number>, crit: Map<string, number>
  try {
    [warn, crit] = [parseThresholds(opts.warn), parseThresholds(opts.crit)]
  } catch (err) {
    io.err(`UNKNOWN - bad threshold: ${(err as Error).message}`)
    return NAGIOS.unknown
  }
  const config = configFor(io, opts.config)
  const url = opts.url ?? `http://${localHost(config.http.host)}:${config.http.port}`
  const mqttUrl = opts.mqttUrl ?? `mqtt://${localHost(config.mqtt.host)}:${config.mqtt.port}`
  const { ok, http, mq, db } = await checkUntil(url, mqttUrl, config, Number(opts.timeout ?? 5000), Number(opts.wait ?? 0))
  const measured = evaluate(http.report, warn, crit)

  if (nagios) {
    const state = ok ? measured.state : NAGIOS.critical
    const checks = [['http', http], ['mqtt', mq], ['db', db]] as Array<[string, Check]>
    const text = checks.map(([n, c]) => c.ok ? `${n} ok` : `${n} failed: ${c.error ?? 'failed'}`).concat(measured.text)
    if (opts.json === true) io.out(JSON.stringify({ ok, state, url, mqttUrl, http, mqtt: mq, db, measures: measured.values }, null, 2))
    else io.out(`${['OK', 'WARNING', 'CRITICAL'][state]} - ${text.join(', ')} | ${measured.perf.join(' ')}`)
    return state
  }
  if (opts.json === true) {
    io.out(JSON.stringify({ ok, url, mqttUrl, http, mqtt: mq, db, measures: measured.values }, null, 2))
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

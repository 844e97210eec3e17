import { randomBytes } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import { performance } from 'node:perf_hooks'
import mqtt from 'mqtt'
import { readHealthToken } from '../auth/health-token.js'
import { topicOf } from '../protocol/index.js'
import type { Config } from '../config/types.js'
import type { HealthReport } from '../api/routes/health.js'
import { configFor, EXIT, type CliIo } from './io.js'
import { evaluate, parseThresholds } from './health-thresholds.js'
import { clientCaPem } from '../tls/material.js'

export interface HealthOptions {
  config?: string
  url?: string
  mqttUrl?: string
  json?: boolean
  timeout?: string
  warn?: string
  crit?: string
  wait?: string
  tls?: boolean
}

/** Nagios plugin exit codes, used only when --warn or --crit is given. */
export const NAGIOS = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const

interface Check { ok: boolean, ms?: number, error?: string }

export function localHost (host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
}

async function withTimeout<T> (what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** GET url → status and parsed JSON body; over https:// the server must prove itself against `ca`. */
async function getJson (
  url: URL,
  ca: string | undefined,
  timeoutMs: number
): Promise<{ status: number, body: unknown }> {
  const get = url.protocol === 'https:' ? https.get : http.get
  return await new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: timeoutMs, agent: false }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) })
        } catch (err) {
          reject(err)
        }
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`http timed out after ${timeoutMs}ms`)))
    req.on('error', reject)
  })
}

async function checkHttp (
  url: string,
  ca: string | undefined,
  timeoutMs: number
): Promise<Check & { report?: HealthReport }> {
  const t0 = performance.now()
  try {
    const res = await getJson(new URL('/health', url), ca, timeoutMs)
    const report = res.body as HealthReport
    const ms = Math.round(performance.now() - t0)
    return res.status >= 200 && res.status < 300
      ? { ok: true, ms, report }
      : { ok: false, ms, report, error: `status ${res.status}` }
  } catch (err) {
    const e = err as { code?: string, message?: string }
    return { ok: false, error: e.code ?? e.message ?? String(err) }
  }
}

/** Connect, subscribe to a private topic, publish to it and wait for the message to come back. */
async function checkMqtt (url: string, config: Config, ca: string | undefined, timeoutMs: number): Promise<Check> {
  const token = readHealthToken(config)
  if (token === undefined) {
    return {
      ok: false,
      error: `no health token (set health.token or run the gateway once to create ${config.dataDir}/health-token)`
    }
  }
  const clientId = `${config.health.username}-${randomBytes(4).toString('hex')}`
  const topic = topicOf('health', { id: clientId })
  const nonce = randomBytes(8).toString('hex')
  const t0 = performance.now()
  let client: mqtt.MqttClient | undefined
  try {
    client = await withTimeout(
      'mqtt connect',
      timeoutMs,
      mqtt.connectAsync(url, {
        clientId,
        username: config.health.username,
        password: token,
        reconnectPeriod: 0,
        connectTimeout: timeoutMs,
        clean: true,
        ...(ca === undefined ? {} : { ca })
      })
    )
    const c = client
    const echoed = new Promise<void>(resolve =>
      c.on('message', (t, payload) => {
        if (t === topic && payload.toString() === nonce) resolve()
      })
    )
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

async function runChecks (
  url: string,
  mqttUrl: string,
  config: Config,
  ca: string | undefined,
  timeoutMs: number
): Promise<Checks> {
  const [http, mq] = await Promise.all([checkHttp(url, ca, timeoutMs), checkMqtt(mqttUrl, config, ca, timeoutMs)])
  const db: Check = http.report !== undefined
    ? (http.report.db.ok ? { ok: true } : { ok: false, error: 'database does not answer' })
    : { ok: false, error: 'unknown (http failed)' }
  return { ok: http.ok && mq.ok && db.ok, http, mq, db }
}

/** Checks until everything answers or `waitMs` has passed (systemd's ExecStartPost waits for the gateway this way). */
async function checkUntil (
  url: string,
  mqttUrl: string,
  config: Config,
  ca: string | undefined,
  timeoutMs: number,
  waitMs: number
): Promise<Checks> {
  const deadline = performance.now() + waitMs
  for (;;) {
    const result = await runChecks(url, mqttUrl, config, ca, timeoutMs)
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
  // --tls: the TLS listeners, by the name every generated certificate carries (localhost).
  const url = opts.url ?? (opts.tls === true ? `https://localhost:${config.tls.https.port}` : `http://${localHost(config.http.host)}:${config.http.port}`)
  const mqttUrl =
    opts.mqttUrl ??
    (opts.tls === true
      ? `mqtts://localhost:${config.tls.mqtt.port}`
      : `mqtt://${localHost(config.mqtt.host)}:${config.mqtt.port}`)
  // Over TLS the gateway must prove itself against the CA its clients pin (tls export-ca), not the system's CAs.
  const overTls = url.startsWith('https:') || /^(mqtts|wss):/.test(mqttUrl)
  const ca = overTls ? await clientCaPem(config, Date.now()) : undefined
  const { ok, http, mq, db } = await checkUntil(
    url,
    mqttUrl,
    config,
    ca,
    Number(opts.timeout ?? 5000),
    Number(opts.wait ?? 0)
  )
  const measured = evaluate(http.report, warn, crit)

  if (nagios) {
    const state = ok ? measured.state : NAGIOS.critical
    const checks = [['http', http], ['mqtt', mq], ['db', db]] as Array<[string, Check]>
    const text = checks.map(([n, c]) => c.ok ? `${n} ok` : `${n} failed: ${c.error ?? 'failed'}`).concat(measured.text)
    if (opts.json === true) {
      io.out(JSON.stringify({ ok, state, url, mqttUrl, http, mqtt: mq, db, measures: measured.values }, null, 2))
    } else io.out(`${['OK', 'WARNING', 'CRITICAL'][state]} - ${text.join(', ')} | ${measured.perf.join(' ')}`)
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

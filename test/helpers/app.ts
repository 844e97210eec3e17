import 'reflect-metadata'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Test } from 'tap'
import { Gateway } from '../../src/app.js'
import { loadConfig, type DeepPartial } from '../../src/config/loader.js'
import type { Config } from '../../src/config/types.js'
import type { Clock } from '../../src/clock.js'
import { redactPaths } from '../../src/log.js'
import { panelOverTls, seedTestCa } from './panel-tls.js'

export interface LogLine { level: number, msg: string, module?: string, [key: string]: unknown }

/** A logger whose lines tests read back as JSON objects. */
export function captureLogger (level = 'debug'): { log: pino.Logger, lines: LogLine[] } {
  const lines: LogLine[] = []
  const dest = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as LogLine)
      cb()
    }
  })
  return { log: pino({ level, redact: { paths: redactPaths, censor: '[redacted]' } }, dest), lines }
}

/** A config for tests: ports 0, a fresh data dir, no env. */
export function testConfig (dataDir: string, overrides: DeepPartial<Config> = {}): Config {
  const base: DeepPartial<Config> = {
    dataDir,
    mqtt: { port: 0, host: '127.0.0.1' },
    http: { port: 0, host: '127.0.0.1' }
  }
  return loadConfig({ env: {}, overrides: mergeDeep(base, overrides) })
}

function mergeDeep (a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out = { ...a }
  for (const [k, v] of Object.entries(b)) {
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof out[k] === 'object' ? mergeDeep(out[k], v) : v
  }
  return out
}

export interface RunningApp {
  gateway: Gateway
  config: Config
  logs: LogLine[]
  mqttUrl: string
  wsUrl: string
  httpUrl: string
  /** Where a browser opens the panel: httpUrl, or the HTTPS port when the panel suite runs over TLS (panel-tls.ts). */
  panelUrl: string
  stop: () => Promise<void>
}

/** Starts the real gateway on port 0 in `dataDir` (default: a fresh t.testdir()); stopped at teardown. */
export async function startApp (
  t: Test,
  opts: { dataDir?: string, config?: DeepPartial<Config>, clock?: Clock, logLevel?: string } = {}
): Promise<RunningApp> {
  const dataDir = opts.dataDir ?? t.testdir()
  const tls = panelOverTls()
  if (tls) await seedTestCa(dataDir)
  const httpsOn: DeepPartial<Config> = { tls: { https: { enabled: true, port: 0, host: '127.0.0.1' } } }
  const config = testConfig(dataDir, tls ? mergeDeep(opts.config ?? {}, httpsOn) : opts.config)
  const { log, lines } = captureLogger(opts.logLevel)
  const gateway = await Gateway.start({ config, log, clock: opts.clock })
  t.teardown(() => gateway.stop())
  const httpUrl = `http://127.0.0.1:${gateway.httpPort}`
  return {
    gateway,
    config,
    logs: lines,
    mqttUrl: `mqtt://127.0.0.1:${gateway.mqttPort}`,
    wsUrl: `ws://127.0.0.1:${gateway.httpPort}${config.mqtt.wsPath}`,
    httpUrl,
    panelUrl: tls ? `https://localhost:${gateway.tlsPorts.https ?? 0}` : httpUrl,
    stop: () => gateway.stop()
  }
}

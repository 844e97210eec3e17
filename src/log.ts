import { pino, type Logger, type DestinationStream } from 'pino'
import pinoPretty from 'pino-pretty'
import { embeddedManifest } from './runtime/embedded.js'
import type { Config } from './config/types.js'

export type { Logger } from 'pino'

// Any of these keys, at the top or one level down, never reaches a log line.
const SECRETS = ['password', 'secret', 'token', 'authorization', 'jwt', 'secretHash', 'passwordHash']
export const redactPaths = [
  ...SECRETS,
  ...SECRETS.map(k => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie'
]

/**
 * The root logger. JSON lines on stdout for journald; pretty when stdout is a terminal (pino-pretty in a
 * worker thread, off the event loop). Tests pass their own destination and read the lines as JSON.
 */
export function createLogger (config: Pick<Config, 'log'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.log.level,
    base: { pid: process.pid },
    redact: { paths: redactPaths, censor: '[redacted]' }
  }
  if (destination !== undefined) return pino(options, destination)
  const pretty = config.log.pretty === 'always' || (config.log.pretty === 'auto' && process.stdout.isTTY)
  const prettyOptions = { translateTime: 'SYS:HH:MM:ss.l' }
  // The single executable cannot start pino's worker from a file: there, pino-pretty runs on the main thread.
  if (pretty && embeddedManifest() !== undefined) return pino(options, pinoPretty(prettyOptions))
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: prettyOptions } })
  return pino(options)
}

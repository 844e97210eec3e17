import { Gateway } from '../app.js'
import { createLogger } from '../log.js'
import { isGatewayError } from '../errors.js'
import { configFor, CliExit, EXIT, type CliIo } from './io.js'

export interface Signals {
  once: (signal: 'SIGTERM' | 'SIGINT', fn: () => void) => void
  /** SIGHUP: re-read the TLS certificate (tls.certFile/keyFile); absent where nothing sends it (tests). */
  on?: (signal: 'SIGHUP', fn: () => void) => void
  off?: (signal: 'SIGHUP', fn: () => void) => void
}

/**
 * `autocore-gateway start`: runs the gateway until SIGTERM/SIGINT, then stops it within shutdown.timeoutMs.
 * Resolves with the exit code once stopped.
 */
export async function start (io: CliIo, opts: { config?: string }, signals: Signals): Promise<number> {
  const config = configFor(io, opts.config)
  const log = createLogger(config)
  let gateway: Gateway
  try {
    gateway = await Gateway.start({ config, log })
  } catch (err) {
    if (isGatewayError(err)) {
      log.fatal({ code: err.code }, err.message)
      io.err(`cannot start: ${err.message} (${err.code})`)
      throw new CliExit(EXIT.failed)
    }
    throw err
  }
  const onHup = (): void => {
    gateway
      .reloadTls()
      .catch((err: Error) => log.error({ err }, 'tls reload failed: the previous certificate stays in use'))
  }
  signals.on?.('SIGHUP', onHup)
  return await new Promise<number>(resolve => {
    const onSignal = (signal: string): void => {
      signals.off?.('SIGHUP', onHup)
      log.info({ signal }, 'shutting down')
      const timer = setTimeout(() => {
        log.error({ timeoutMs: config.shutdown.timeoutMs }, 'shutdown timed out')
        resolve(EXIT.failed)
      }, config.shutdown.timeoutMs)
      gateway.stop().then(() => { clearTimeout(timer); resolve(EXIT.ok) }, err => {
        log.error({ err }, 'shutdown failed')
        clearTimeout(timer)
        resolve(EXIT.failed)
      })
    }
    signals.once('SIGTERM', () => onSignal('SIGTERM'))
    signals.once('SIGINT', () => onSignal('SIGINT'))
  })
}

import { redactConfig } from '../config/loader.js'
import { configFor, type CliIo } from './io.js'

/** `autocore-gateway config check`: validates and prints the effective configuration, secrets redacted. */
export function configCheck (io: CliIo, opts: { config?: string }): number {
  const config = configFor(io, opts.config)
  io.out(JSON.stringify(redactConfig(config), null, 2))
  return 0
}

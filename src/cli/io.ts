import type { Command } from 'commander'
import { loadConfig, type Config } from '../config/loader.js'
import { GatewayError } from '../errors.js'

/** Where a command writes and what it reads: main passes the process's, tests pass their own. */
export interface CliIo {
  env: Record<string, string | undefined>
  out: (line: string) => void
  err: (line: string) => void
  /** All of stdin (passwords for `user add`); main reads the process's. */
  readStdin?: () => Promise<string>
}

/** What a command group (`device`, `user`, ...) registers with. */
export interface CommandSetup {
  program: Command
  io: CliIo
  /** The `--config <file>` option every command that reads the config takes. */
  configOption: readonly [string, string]
  /** Where the command's exit code goes. */
  setCode: (code: number) => void
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, config: 2 } as const

export class CliExit extends Error {
  constructor (readonly code: number, message = '') {
    super(message)
  }
}

/**
 * Loads the config for a command; a bad config prints one line per bad key and exits 2. Without --config,
 * AUTOCORE_CONFIG_FILE names the file (the installed /usr/local/bin wrapper sets it to /etc/autocore/config.json).
 */
export function configFor (io: CliIo, file: string | undefined): Config {
  try {
    return loadConfig({ file: file ?? io.env.AUTOCORE_CONFIG_FILE, env: io.env })
  } catch (err) {
    if (err instanceof GatewayError && (err.code === 'GW_ERR_CONFIG_INVALID' || err.code === 'GW_ERR_CONFIG_FILE')) {
      io.err(`invalid configuration (${err.code}):`)
      for (const line of err.message.split('\n')) io.err(`  ${line}`)
      throw new CliExit(EXIT.config)
    }
    throw err
  }
}

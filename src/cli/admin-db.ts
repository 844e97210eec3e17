import { GatewayError, isGatewayError } from '../errors.js'
import { createLogger } from '../log.js'
import { openDatabase } from '../persistence/database.js'
import { createRepositories, type Repositories } from '../persistence/repositories/index.js'
import type { Command } from 'commander'
import type { Config } from '../config/types.js'
import { EXIT, configFor, type CliIo, type CommandSetup } from './io.js'

/**
 * Runs an admin command against the database named by the config (safe while the gateway runs: SQLite WAL).
 * A GatewayError becomes one line on stderr and exit 1.
 */
export async function withRepos (
  io: CliIo,
  opts: { config?: string },
  work: (repos: Repositories, config: Config) => Promise<void>
): Promise<number> {
  const config = configFor(io, opts.config)
  const db = await openDatabase(
    config,
    createLogger({ log: { ...config.log, level: 'warn' } }).child({ module: 'cli' })
  )
  try {
    await work(createRepositories(db), config)
    return EXIT.ok
  } catch (err) {
    if (!isGatewayError(err)) throw err
    io.err(`${err.message} (${err.code})`)
    return EXIT.failed
  } finally {
    await db.close()
  }
}

/** The options every admin command on the database takes. */
export type DbOpts = { config?: string, json?: boolean }

/**
 * Ends an admin subcommand on the database: its `--json` option (`json` says what it prints), `--config`, and the
 * action, which runs `work` in withRepos with the command's arguments and options and sets the exit code.
 */
export function dbAction<A extends string[], O extends DbOpts = DbOpts> (
  { io, configOption, setCode }: CommandSetup,
  command: Command,
  json: string,
  work: (repos: Repositories, config: Config, opts: O, ...args: A) => Promise<void>
): void {
  command.option('--json', json).option(...configOption).action(async (...params: unknown[]) => {
    // Commander passes the arguments, then the options, then the command.
    const opts = params[params.length - 2] as O
    const args = params.slice(0, -2) as A
    setCode(await withRepos(io, opts, async (repos, config) => await work(repos, config, opts, ...args)))
  })
}

/** Prints rows as JSON or as an aligned text table. */
export function printTable (
  io: CliIo,
  json: boolean | undefined,
  rows: Array<Record<string, unknown>>,
  columns: string[]
): void {
  if (json === true) return io.out(JSON.stringify(rows))
  const cell = (v: unknown): string => v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v)
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => cell(r[c]).length)))
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()
  io.out(line(columns))
  for (const r of rows) io.out(line(columns.map(c => cell(r[c]))))
}

export function notFound (what: 'device' | 'user', id: string): GatewayError {
  return what === 'device'
    ? new GatewayError('GW_ERR_DEVICE_NOT_FOUND', `no device ${id}`)
    : new GatewayError('GW_ERR_USER_NOT_FOUND', `no user ${id}`)
}

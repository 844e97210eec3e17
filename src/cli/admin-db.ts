import { GatewayError, isGatewayError } from '../errors.js'
import { createLogger } from '../log.js'
import { openDatabase } from '../persistence/database.js'
import { createRepositories, type Repositories } from '../persistence/repositories/index.js'
import { EXIT, configFor, type CliIo } from './io.js'

/**
 * Runs an admin command against the database named by the config (safe while the gateway runs: SQLite WAL).
 * A GatewayError becomes one line on stderr and exit 1.
 */
export async function withRepos (
  io: CliIo,
  opts: { config?: string },
  work: (repos: Repositories) => Promise<void>
): Promise<number> {
  const config = configFor(io, opts.config)
  const db = await openDatabase(
    config,
    createLogger({ log: { ...config.log, level: 'warn' } }).child({ module: 'cli' })
  )
  try {
    await work(createRepositories(db))
    return EXIT.ok
  } catch (err) {
    if (!isGatewayError(err)) throw err
    io.err(`${err.message} (${err.code})`)
    return EXIT.failed
  } finally {
    await db.close()
  }
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

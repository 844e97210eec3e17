import { readFileSync } from 'node:fs'
import { createLogger } from '../log.js'
import { openDatabase } from '../persistence/database.js'
import { createRepositories } from '../persistence/repositories/index.js'
import { isGatewayError } from '../errors.js'
import { configFor, EXIT, type CliIo } from './io.js'
import { parseDbc } from './dbc.js'

/**
 * `autocore-gateway can import <file.dbc> [--device uuid]`: writes the DBC's messages and signals into
 * can_signals (updating signals of the same id and name). A running gateway picks them up within 30 s.
 */
export async function canImport (
  io: CliIo,
  file: string,
  opts: { config?: string, device?: string, dryRun?: boolean }
): Promise<number> {
  const config = configFor(io, opts.config)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    io.err(`cannot read ${file}: ${(err as Error).message}`)
    return EXIT.failed
  }
  let dbc
  try {
    dbc = parseDbc(text)
  } catch (err) {
    if (!isGatewayError(err)) throw err
    io.err(`${file}: ${err.message} (${err.code})`)
    return EXIT.failed
  }
  const signals = dbc.messages.flatMap(m => m.signals)
  for (const s of dbc.skipped) io.err(`skipped ${s.message}.${s.signal}: ${s.reason}`)
  if (opts.dryRun === true) {
    io.out(`${file}: ${dbc.messages.length} messages, ${signals.length} signals (dry run, nothing written)`)
    return EXIT.ok
  }
  const db = await openDatabase(config, createLogger(config).child({ module: 'can-import' }))
  try {
    const repos = createRepositories(db)
    let deviceId: number | null = null
    if (opts.device !== undefined) {
      const id = await repos.telemetry.deviceId(opts.device)
      if (id === undefined) {
        io.err(`no device ${opts.device}`)
        return EXIT.failed
      }
      deviceId = id
    }
    const { inserted, updated } = await repos.canSignals.upsert(signals, deviceId)
    io.out(`${file}: ${dbc.messages.length} messages, ${signals.length} signals (${inserted} new, ${updated} updated)`)
    return EXIT.ok
  } finally {
    await db.close()
  }
}

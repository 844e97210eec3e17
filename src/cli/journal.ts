import { journalView } from '../services/journal.js'
import { printTable, withRepos } from './admin-db.js'
import { EXIT, type CommandSetup } from './io.js'

interface JournalOptions {
  config?: string
  since: string
  until?: string
  target?: string
  action?: string
  limit: string
  json?: boolean
}

/** Epoch milliseconds of `value` (epoch ms, ISO 8601, or a date); undefined when it is no time. */
function timeOf (value: string): number | undefined {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  return Number.isFinite(ms) ? ms : undefined
}

/** `autocore-gateway journal --since … [--until …] [--json]`: the control journal, read from the database directly. */
export function registerJournalCommand ({ program, io, configOption, setCode }: CommandSetup): void {
  program.command('journal')
    .description('the black-box journal of control actions: who asked for what, through what, when, and the outcome ' +
      '(opens the database directly)')
    .requiredOption('--since <time>', 'from this time: epoch milliseconds or ISO 8601 (2026-01-01T14:00:00Z)')
    .option('--until <time>', 'up to this time (inclusive)')
    .option('--target <target>', 'only this target: <deviceUuid>/<channel>, macro:<id>, device:<uuid>, gateway')
    .option('--action <action>', 'only this action, e.g. relay.on')
    .option('--limit <n>', 'at most this many rows', '1000')
    .option('--json', 'print a JSON array')
    .option(...configOption)
    .action(async (opts: JournalOptions) => {
      const since = timeOf(opts.since)
      const until = opts.until === undefined ? undefined : timeOf(opts.until)
      const limit = Number(opts.limit)
      if (
        since === undefined ||
        (opts.until !== undefined && until === undefined) ||
        !Number.isInteger(limit) ||
        limit < 1
      ) {
        io.err('--since and --until take epoch milliseconds or ISO 8601; --limit a positive integer')
        setCode(EXIT.config)
        return
      }
      setCode(await withRepos(io, opts, async repos => {
        const rows = (await repos.journal.find({ since, until, target: opts.target, action: opts.action, limit })).map(
          journalView
        )
        printTable(
          io,
          opts.json,
          opts.json === true
            ? rows
            : rows.map(r => ({ ...r, params: r.params === null ? null : JSON.stringify(r.params) })),
          [
            'at',
            'actor',
            'role',
            'transport',
            'address',
            'action',
            'target',
            'params',
            'outcome',
            'errorCode',
            'commandId'
          ]
        )
      }))
    })
}

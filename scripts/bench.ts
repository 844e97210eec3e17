/**
 * `npm run bench` (= build, then `node dist/scripts/bench.js [scenario[:target,...] ...]`).
 * Runs every scenario, or only those named on the command line, e.g. `node dist/scripts/bench.js broker:app`.
 * Every child process and temp dir is removed at the end, also on error or Ctrl-C. Exit 1 if anything failed.
 */
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { brokerScenario } from './bench/broker.js'
import { telemetryScenario } from './bench/telemetry.js'
import { emergencyScenario } from './bench/emergency.js'
import { accessScenario } from './bench/access.js'
import { limitsScenario } from './bench/limits.js'
import { tlsScenario } from './bench/tls.js'
import { Children } from './bench/children.js'
import { clockTicksPerSecond } from './bench/proc-stats.js'
import { Report } from './bench/report.js'
import type { BenchContext, Scenario } from './bench/scenario.js'

const SCENARIOS: readonly Scenario[] = [
  brokerScenario,
  accessScenario,
  telemetryScenario,
  emergencyScenario,
  limitsScenario,
  tlsScenario
]

interface Selection { scenario: Scenario, targets?: string[] }

/** `broker` or `broker:app,bare-aedes`; no argument means every scenario with every target. */
function parseArgs (args: string[]): Selection[] {
  if (args.length === 0) return SCENARIOS.map(scenario => ({ scenario }))
  return args.map(arg => {
    const [name, list] = arg.split(':', 2)
    const scenario = SCENARIOS.find(s => s.name === name)
    if (scenario === undefined) throw new UsageError(`unknown scenario "${name}"`)
    if (list === undefined) return { scenario }
    const targets = list.split(',').filter(t => t !== '')
    const unknown = targets.filter(t => !scenario.targets.includes(t))
    if (unknown.length > 0) throw new UsageError(`unknown target(s) ${unknown.join(', ')} for ${name}`)
    return { scenario, targets }
  })
}

class UsageError extends Error {}

function usage (): string {
  return [
    'usage: node dist/scripts/bench.js [scenario[:target,...] ...]',
    'scenarios:',
    ...SCENARIOS.map(
      s => `  ${s.name.padEnd(10)} ${s.description}\n  ${''.padEnd(10)} targets: ${s.targets.join(', ')}`
    )
  ].join('\n')
}

/**
 * Children and temp dirs must not outlive the bench, whatever way it ends. Returns the exit code an abort
 * (signal, closed stdout) asked for, which wins over the scenarios' own outcome.
 */
function stopChildrenOnExit (children: Children): () => number | undefined {
  let aborted: number | undefined
  const abort = (code: number): void => {
    if (aborted !== undefined) return
    aborted = code
    void children.stopAll().finally(() => process.exit(code))
  }
  // Also catches what a still-running scenario spawned or created while stopAll() ran.
  process.once('exit', () => children.cleanupSync())
  process.once('SIGINT', () => abort(130))
  process.once('SIGTERM', () => abort(143))
  // `node dist/scripts/bench.js | head` closes stdout early: clean up and stop instead of crashing on EPIPE.
  process.stdout.on('error', err => abort((err as NodeJS.ErrnoException).code === 'EPIPE' ? 0 : 1))
  return () => aborted
}

async function main (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage() + '\n')
    return 0
  }
  let selections: Selection[]
  try {
    selections = parseArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\n${usage()}\n`)
    return 2
  }

  const children = new Children()
  const abortedWith = stopChildrenOnExit(children)

  const clkTck = clockTicksPerSecond()
  const started = new Date()
  const report = new Report({
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    clkTck,
    startedAt: started.toISOString()
  })
  report.header(`AutoCore Gateway bench, ${started.toISOString()}`, [
    `node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), CLK_TCK ${clkTck}`
  ])
  const ctx: BenchContext = {
    root: fileURLToPath(new URL('../../', import.meta.url)),
    children,
    report,
    clkTck,
    failed: false
  }
  try {
    for (const { scenario, targets } of selections) {
      await scenario.run(ctx, targets)
    }
  } catch (err) {
    ctx.failed = true
    report.note(`FAILED: ${(err as Error).stack ?? String(err)}`)
  } finally {
    await children.stopAll()
  }
  const aborted = abortedWith()
  if (aborted !== undefined) return aborted
  report.finish({ seconds: Math.round((Date.now() - started.getTime()) / 100) / 10, failed: ctx.failed })
  return ctx.failed ? 1 : 0
}

// An explicit exit: a client socket or timer left behind by a failed scenario must not keep the bench alive.
process.exit(await main(process.argv.slice(2)))

import type { Children } from './children.js'
import type { Report } from './report.js'

/** What every scenario gets from the runner. */
export interface BenchContext {
  /** Package root: holds dist/ and config/. */
  root: string
  children: Children
  report: Report
  /** Clock ticks per second, to turn /proc/<pid>/stat times into seconds. */
  clkTck: number
  /** Set by a scenario when part of it failed but the rest could still run; the runner then exits 1. */
  failed: boolean
}

/** One benchmark: `node dist/scripts/bench.js <name>[:target,...]` runs only the named ones. */
export interface Scenario {
  name: string
  description: string
  /** The targets it compares, for --help and for checking a command-line filter. */
  targets: readonly string[]
  /** targets: only these (e.g. ['app']) when the command line named some; otherwise all of the scenario's. */
  run: (ctx: BenchContext, targets?: readonly string[]) => Promise<void>
}

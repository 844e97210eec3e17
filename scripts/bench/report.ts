/**
 * Output of `npm run bench`: aligned lines for people, printed as results arrive, and at the end one line
 * `BENCH_JSON {...}` with every measurement, for scripts and CI to compare runs.
 */

export type Detail = number | string | boolean | null

export interface Measurement {
  scenario: string
  /** What was measured: 'app', 'bare-aedes', 'mosquitto', ... */
  target: string
  /** Stable machine name, e.g. 'qos0_fanin', 'startup', 'idle_rss'. */
  metric: string
  value: number
  unit: string
  details?: Record<string, Detail>
}

export interface Line {
  /** Human name of the metric, e.g. 'qos0 fan-in'. */
  label: string
  /** Already formatted extra columns, e.g. ['cpu 18.2 µs/msg', 'p50 1.2 ms']. */
  notes?: string[]
  /** Fraction digits for the value column. */
  digits?: number
}

const TARGET_WIDTH = 11
const LABEL_WIDTH = 13
const VALUE_WIDTH = 10
const UNIT_WIDTH = 6

export function num (value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export const fmt = {
  usPerMsg: (us: number): string => `cpu ${num(us, 1)} µs/msg`,
  ms: (name: string, ms: number): string => `${name} ${num(ms, ms < 10 ? 2 : 1)} ms`,
  pct: (name: string, pct: number): string => `${name} ${num(pct, 0)}%`
}

export class Report {
  private readonly measurements: Measurement[] = []

  constructor (
    private readonly meta: Record<string, Detail>,
    private readonly write: (line: string) => void = line => process.stdout.write(line + '\n')
  ) {}

  /** A block of free text, e.g. a scenario's description of its workload. */
  header (title: string, lines: string[] = []): void {
    this.write('')
    this.write(`== ${title}`)
    for (const line of lines) this.write(`   ${line}`)
  }

  note (line: string): void {
    this.write(`   ${line}`)
  }

  add (m: Measurement, line: Line): void {
    this.measurements.push(m)
    const columns = [
      m.target.padEnd(TARGET_WIDTH),
      line.label.padEnd(LABEL_WIDTH),
      num(m.value, line.digits ?? 0).padStart(VALUE_WIDTH),
      m.unit.padEnd(UNIT_WIDTH),
      ...(line.notes ?? [])
    ]
    this.write(columns.join('  ').trimEnd())
  }

  results (): readonly Measurement[] {
    return this.measurements
  }

  /** The last line of the run. NaN and Infinity become null, as JSON has neither. */
  finish (extra: Record<string, Detail> = {}): void {
    this.write('BENCH_JSON ' + JSON.stringify({ ...this.meta, ...extra, results: this.measurements }))
  }
}

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

// What a process (or the whole machine) has used, read from /proc: the outside view the benches measure by.

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux we run on, asked anyway. */
export function clockTicksPerSecond (): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(n) && n > 0 ? n : 100
  } catch {
    return 100
  }
}

/** utime + stime (fields 14 and 15) of /proc/<pid>/stat; children's time is not included, on purpose. */
export function readCpuTicks (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  return Number(fields[11]) + Number(fields[12])
}

/**
 * Busy ticks of the whole machine (all CPUs, from the first line of /proc/stat: everything but idle and iowait).
 * Minus the broker and the generator, it shows how much else ran during a measurement: other users' builds
 * and tests on a shared machine, and kernel work (loopback TCP in softirq) not charged to either process.
 */
export function readSystemBusyTicks (): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
  const [, ...values] = line.trim().split(/\s+/)
  // Fields: user nice system idle iowait irq softirq steal ...; idle and iowait are skipped.
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number)
  return user + nice + system + irq + softirq + steal
}

export function readRssKb (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1])
}

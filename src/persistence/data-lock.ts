import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GatewayError } from '../errors.js'

const FILE = 'gateway.lock'

/** Who holds the data directory: written by a running gateway (and by restore while it works). */
export interface LockHolder {
  pid: number
  what: string
  since: number
  /** /proc/sys/kernel/random/boot_id: after a power cut the same pid may belong to another process. */
  bootId?: string
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22): guards against pid reuse. */
  startTicks?: string
  token: string
}

export interface DataLock {
  readonly holder: LockHolder
  release: () => void
}

function readProc (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function startTicks (pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`)
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

function alive (holder: LockHolder): boolean {
  const bootId = readProc('/proc/sys/kernel/random/boot_id')?.trim()
  if (holder.bootId !== undefined && bootId !== undefined && holder.bootId !== bootId) return false
  try {
    process.kill(holder.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const ticks = startTicks(holder.pid)
  return holder.startTicks === undefined || ticks === undefined || holder.startTicks === ticks
}

/** The live holder of the data directory, or undefined when it is free (no lock file, or a stale one). */
export function lockHolder (dataDir: string): LockHolder | undefined {
  const raw = readProc(join(dataDir, FILE))
  if (raw === undefined) return undefined
  try {
    const holder = JSON.parse(raw) as LockHolder
    return alive(holder) ? holder : undefined
  } catch {
    return undefined
  }
}

/**
 * Takes `<dataDir>/gateway.lock` for this process. A live holder → GW_ERR_DATA_DIR_LOCKED; a stale file (its
 * process is gone, or the machine rebooted since) is replaced, so a power cut never keeps the gateway down.
 */
export function acquireDataLock (dataDir: string, what: string, now: number): DataLock {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, FILE)
  const holder: LockHolder = {
    pid: process.pid,
    what,
    since: now,
    bootId: readProc('/proc/sys/kernel/random/boot_id')?.trim(),
    startTicks: startTicks(process.pid),
    token: randomBytes(8).toString('hex')
  }
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(holder) + '\n', { flag: 'wx', mode: 0o644 })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const other = lockHolder(dataDir)
      if (other !== undefined || attempt > 0) {
        if (other === undefined) {
          throw new GatewayError('GW_ERR_DATA_DIR_LOCKED', `data directory ${dataDir} was taken meanwhile`)
        }
        throw new GatewayError(
          'GW_ERR_DATA_DIR_LOCKED',
          `data directory ${dataDir} is in use by ${other.what} (pid ${other.pid})`,
          { pid: other.pid }
        )
      }
      rmSync(file, { force: true })
    }
  }
  return {
    holder,
    release () {
      // Only our own lock: a stale-lock takeover by another process must not be undone by us.
      if (readProc(file)?.includes(holder.token) === true) rmSync(file, { force: true })
    }
  }
}

import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const STOP_GRACE_MS = 5000

/**
 * Every child and temp dir the bench creates, so that one place kills and removes them all, including when a
 * scenario throws half-way. Created by the runner and passed down; never module state.
 */
export class Children {
  private readonly procs = new Set<ChildProcess>()
  private readonly dirs = new Set<string>()

  track (child: ChildProcess): void {
    this.procs.add(child)
    child.once('exit', () => this.procs.delete(child))
  }

  /** Synchronous on purpose: an async mkdtemp could create the dir and then lose the race with process.exit. */
  tempDir (prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    this.dirs.add(dir)
    return dir
  }

  async removeDir (dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true })
    this.dirs.delete(dir)
  }

  /** Graceful: SIGTERM everyone still running, SIGKILL stragglers, then remove the temp dirs. */
  async stopAll (): Promise<void> {
    await Promise.all([...this.procs].map(child => stopChild(child)))
    await Promise.all([...this.dirs].map(dir => this.removeDir(dir)))
  }

  /** Last resort from process 'exit', where nothing async runs any more: SIGKILL, then remove the dirs. */
  cleanupSync (): void {
    for (const child of this.procs) child.kill('SIGKILL')
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** Resolves with the exit code; SIGKILL if SIGTERM did not end the child within the grace period. */
export function stopChild (child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', code => {
      clearTimeout(timer)
      resolve(code)
    })
    child.kill('SIGTERM')
  })
}

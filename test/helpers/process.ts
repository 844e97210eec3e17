import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Test } from 'tap'
import { packageRoot } from '../../src/paths.js'

/** The built entry point: process tests run what `npm start` runs (npm test builds first). */
export const mainJs = join(packageRoot, 'dist', 'src', 'main.js')

export interface GatewayProcess {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resolves with the JSON log line whose msg matches, or rejects if the process exits first. */
  waitForLog: (msg: string, timeoutMs?: number) => Promise<Record<string, any>>
}

/**
 * Runs `node dist/src/main.js ...args` with env (or `exe ...args`: the single executable); killed at teardown if
 * still running.
 */
export function runGateway (t: Test, args: string[], env: Record<string, string>, exe?: string[]): GatewayProcess {
  const [cmd, ...pre] = exe ?? [process.execPath, mainJs]
  const child = spawn(cmd, [...pre, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stdout: string[] = []
  const stderr: string[] = []
  const listeners = new Set<() => void>()
  let buffered = ''
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    stdout.push(...parts)
    for (const l of listeners) l()
  })
  child.stderr?.on('data', (d: Buffer) => stderr.push(...d.toString().split('\n').filter(Boolean)))
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })

  function findLog (msg: string): Record<string, any> | undefined {
    for (const l of stdout) {
      try {
        const o = JSON.parse(l) as Record<string, any>
        if (o.msg === msg) return o
      } catch {}
    }
    return undefined
  }

  return {
    child,
    stdout,
    stderr,
    exited,
    waitForLog: (msg, timeoutMs = 15000) => new Promise((resolve, reject) => {
      const found = findLog(msg)
      if (found !== undefined) return resolve(found)
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no '${msg}' log line within ${timeoutMs}ms; stderr: ${stderr.join('\n')}`))
      }, timeoutMs)
      const check = (): void => {
        const o = findLog(msg)
        if (o !== undefined) { done(); resolve(o) }
      }
      const done = (): void => { clearTimeout(timer); listeners.delete(check) }
      listeners.add(check)
      void exited.then(r => {
        if (listeners.has(check)) {
          done()
          reject(new Error(`exited ${String(r.code)} before '${msg}': ${stderr.join('\n')}`))
        }
      })
    })
  }
}

/** Env for a gateway on free ports in a fresh data dir. */
export function gatewayEnv (dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AUTOCORE_DATA_DIR: dataDir,
    AUTOCORE_MQTT_PORT: '0',
    AUTOCORE_HTTP_PORT: '0',
    AUTOCORE_MQTT_HOST: '127.0.0.1',
    AUTOCORE_HTTP_HOST: '127.0.0.1',
    ...extra
  }
}

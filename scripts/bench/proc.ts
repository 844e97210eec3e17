import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { stopChild, type Children } from './children.js'
import { readCpuTicks, readRssKb } from './proc-stats.js'

/** A broker running as a child process, measured from the outside through /proc. */
export interface BrokerProcess {
  readonly name: string
  readonly pid: number
  readonly mqttPort: number
  /** spawn → ready (the "started" JSON line, or the port accepting for brokers that print none). */
  readonly startupMs: number
  /** The parsed ready line, when the broker printed one (the app's carries httpPort, dataDir, ...). */
  readonly readyLine: Record<string, unknown>
  alive: () => boolean
  /** utime + stime of the broker process, in clock ticks (see clockTicksPerSecond). */
  cpuTicks: () => number
  rssKb: () => number
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code (null when killed by a signal). */
  stop: () => Promise<number | null>
}

export interface AppProcess extends BrokerProcess {
  readonly httpPort: number
  readonly dataDir: string
}

const READY_TIMEOUT_MS = 15000

/** A port free right now on 127.0.0.1, for brokers (mosquitto) that cannot listen on port 0 and report it. */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

interface SpawnSpec {
  name: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Picks the MQTT port out of one parsed stdout JSON line, or undefined while not ready. */
  readyFromLine?: (line: Record<string, unknown>) => number | undefined
  /** For brokers that print no ready line: the port to poll until it accepts. */
  pollPort?: number
}

/** Spawns a broker and waits until it is ready; on any failure the child is killed before rejecting. */
async function spawnBroker (children: Children, spec: SpawnSpec): Promise<BrokerProcess> {
  const t0 = performance.now()
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.track(child)
  const tail = outputTail(child)
  try {
    const ready = await Promise.race([
      spec.pollPort !== undefined ? pollUntilAccepting(spec.pollPort, child) : readyLine(child, spec),
      exitedEarly(child),
      timeout(READY_TIMEOUT_MS, `${spec.name} not ready after ${READY_TIMEOUT_MS} ms`)
    ])
    const startupMs = performance.now() - t0
    const pid = child.pid as number
    return {
      name: spec.name,
      pid,
      mqttPort: ready.port,
      startupMs,
      readyLine: ready.line,
      alive: () => child.exitCode === null && child.signalCode === null,
      cpuTicks: () => readCpuTicks(pid),
      rssKb: () => readRssKb(pid),
      stop: () => stopChild(child)
    }
  } catch (err) {
    await stopChild(child, 1000)
    throw new Error(`${spec.name} failed to start: ${(err as Error).message}\n${tail().join('\n')}`)
  }
}

interface Ready { port: number, line: Record<string, unknown> }

/**
 * Reads stdout line by line for the whole life of the child: a broker that logs into a full pipe would block,
 * so stdout keeps being drained after the ready line too.
 */
function readyLine (child: ChildProcess, spec: SpawnSpec): Promise<Ready> {
  return new Promise(resolve => {
    let found = false
    createInterface({ input: child.stdout! }).on('line', text => {
      if (found) return
      const line = parseJsonLine(text)
      const port = line === undefined ? undefined : spec.readyFromLine?.(line)
      if (line !== undefined && port !== undefined) {
        found = true
        resolve({ port, line })
      }
    })
  })
}

function parseJsonLine (text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
}

async function pollUntilAccepting (port: number, child: ChildProcess): Promise<Ready> {
  child.stdout!.resume()
  while (child.exitCode === null) {
    if (await accepts(port)) return { port, line: {} }
    await sleep(5)
  }
  throw new Error('exited while starting')
}

function accepts (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** Keeps the last stderr lines, only to explain a failed start (the app prints config errors there). */
function outputTail (child: ChildProcess, max = 20): () => string[] {
  const lines: string[] = []
  const keep = (text: string): void => {
    lines.push(text)
    if (lines.length > max) lines.shift()
  }
  createInterface({ input: child.stderr! }).on('line', keep)
  return () => lines
}

function exitedEarly (child: ChildProcess): Promise<never> {
  return new Promise((_resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`exited early (code ${code}, signal ${signal})`)))
  })
}

function timeout (ms: number, message: string): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error(message)), ms).unref())
}

export function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** The parent's environment without any AUTOCORE_* variable, so a developer's shell cannot skew a run. */
function cleanEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AUTOCORE_')))
}

export interface AppOptions {
  /** Package root (holds dist/ and config/). */
  root: string
  /**
   * Extra AUTOCORE_* variables for scenarios that need another configuration (anonymous MQTT + acl.rules, auth,
   * telemetry, ...); without them the app runs its defaults (anonymous MQTT off). Readiness
   * is the info-level "gateway started" line: AUTOCORE_LOG_LEVEL must stay at info or below.
   */
  env?: Record<string, string>
  name?: string
}

/**
 * The real gateway, `node dist/src/main.js start`, on ports 0 of 127.0.0.1 with a fresh temp data dir that
 * stop() removes. Spawned as node itself (not through npm or a shell) so the pid measured is the broker's.
 */
export async function startApp (children: Children, opts: AppOptions): Promise<AppProcess> {
  const dataDir = children.tempDir('autocore-bench-app-')
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    AUTOCORE_DATA_DIR: dataDir,
    AUTOCORE_MQTT_HOST: '127.0.0.1',
    AUTOCORE_MQTT_PORT: '0',
    AUTOCORE_HTTP_HOST: '127.0.0.1',
    AUTOCORE_HTTP_PORT: '0',
    AUTOCORE_LOG_LEVEL: 'info',
    ...opts.env
  }
  const proc = await withTempDir(children, dataDir, () => spawnBroker(children, {
    name: opts.name ?? 'app',
    command: process.execPath,
    args: [join(opts.root, 'dist/src/main.js'), 'start'],
    env,
    cwd: opts.root,
    readyFromLine: line => line.msg === 'gateway started' ? Number(line.mqttPort) : undefined
  }))
  return { ...proc, httpPort: Number(proc.readyLine.httpPort), dataDir }
}

/**
 * Aedes with its defaults and no hooks: in-memory persistence (the floor the app is compared with), or with
 * `persistence: 'level'` the app's level store in a temp dir that stop() removes.
 */
export async function startBareAedes (
  children: Children,
  root: string,
  opts: { persistence?: 'memory' | 'level' } = {}
): Promise<BrokerProcess> {
  const args = [join(root, 'dist/scripts/bench/bare-aedes.js')]
  const dir = opts.persistence === 'level' ? children.tempDir('autocore-bench-aedes-') : undefined
  if (dir !== undefined) args.push('--level', join(dir, 'mqtt'))
  const spec = {
    name: dir === undefined ? 'bare-aedes' : 'aedes-level',
    command: process.execPath,
    args,
    env: cleanEnv(),
    readyFromLine: (line: Record<string, unknown>) =>
      line.msg === 'bare aedes started' ? Number(line.mqttPort) : undefined
  }
  return await withTempDir(children, dir, () => spawnBroker(children, spec))
}

/** Makes stop() (and a failed start) also remove the broker's temp dir, when it has one. */
async function withTempDir (
  children: Children,
  dir: string | undefined,
  start: () => Promise<BrokerProcess>
): Promise<BrokerProcess> {
  if (dir === undefined) return await start()
  try {
    const proc = await start()
    return {
      ...proc,
      stop: async () => {
        const code = await proc.stop()
        await children.removeDir(dir)
        return code
      }
    }
  } catch (err) {
    await children.removeDir(dir)
    throw err
  }
}

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto'

/**
 * Debian's mosquitto, as a reference point. It cannot report a port-0 listener, so a port is picked by binding
 * and releasing one (a small race, acceptable here). Limits are lifted so that, like Aedes, it neither caps
 * in-flight QoS 1 nor drops queued messages; noDelay matches the app's TCP listener.
 */
export async function startMosquitto (children: Children, extraConfig: string[] = []): Promise<BrokerProcess> {
  const dir = children.tempDir('autocore-bench-mosquitto-')
  const port = await freePort()
  const file = join(dir, 'mosquitto.conf')
  await writeFile(file, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'set_tcp_nodelay true',
    'max_inflight_messages 0',
    'max_queued_messages 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    ...extraConfig,
    ''
  ].join('\n'))
  return await withTempDir(children, dir, () =>
    spawnBroker(children, {
      name: 'mosquitto',
      command: MOSQUITTO_BIN,
      args: ['-c', file],
      env: cleanEnv(),
      pollPort: port
    })
  )
}

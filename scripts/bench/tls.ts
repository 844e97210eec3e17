/**
 * TLS benchmark (#17, acceptance 3), against the real gateway with tls.mqtt on (its generated ECDSA P-256
 * certificate):
 *  - full handshakes: sequential TLS connections to the mqtts:// port, each verifying the gateway CA, then closed;
 *    handshakes per second (client and gateway on the same machine) and gateway CPU per handshake;
 *  - resumed handshakes: the same with a TLS 1.3 session ticket from an earlier connection;
 *  - QoS 0 fan-in over mqtts:// and over plain mqtt:// to the same process, in the same run: gateway CPU µs/msg.
 * Asserts nothing.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import { fanIn } from './load.js'
import { sleep, startApp, type AppProcess } from './proc.js'
import { readCpuTicks } from './proc-stats.js'
import { fmt, num } from './report.js'
import type { BenchContext, Scenario } from './scenario.js'

const HANDSHAKES = 400
const PARALLEL = 4
const FANIN = {
  qos: 0 as const,
  publishers: 20,
  payloadBytes: 64,
  outstanding: 1000,
  durationMs: 1500,
  maxMessages: 150_000
}
const REPS = 3

const ENV = {
  AUTOCORE_MQTT_ALLOW_ANONYMOUS: 'true',
  AUTOCORE_ACL_RULES: JSON.stringify([{ effect: 'allow', action: 'both', topic: 'bench/#', role: 'anonymous' }]),
  AUTOCORE_TLS_MQTT_ENABLED: 'true',
  AUTOCORE_TLS_MQTT_HOST: '127.0.0.1',
  AUTOCORE_TLS_MQTT_PORT: '0'
}

async function handshake (
  port: number,
  ca: string,
  session?: Buffer
): Promise<{ reused: boolean, ticket: Promise<Buffer | undefined> }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', session })
  socket.on('error', () => {})
  // A TLS 1.3 ticket comes after the handshake: wait for it before closing (only when it is asked for).
  const ticket = new Promise<Buffer | undefined>(resolve => {
    socket.once('session', s => resolve(s))
    socket.once('close', () => resolve(undefined))
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve())
    socket.once('error', reject)
  })
  const reused = socket.isSessionReused()
  if (session === undefined) await Promise.race([ticket, sleep(1000)])
  socket.destroy()
  return { reused, ticket }
}

async function handshakes (
  ctx: BenchContext,
  app: AppProcess,
  port: number,
  ca: string,
  resumed: boolean
): Promise<void> {
  const first = await handshake(port, ca)
  const session = resumed ? await first.ticket : undefined
  if (resumed && session === undefined) throw new Error('no TLS session ticket received')
  await sleep(300)
  const ticks0 = app.cpuTicks()
  const t0 = performance.now()
  let next = 0
  let reused = 0
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < HANDSHAKES) {
      next++
      const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', session })
      socket.on('error', () => {})
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', () => resolve())
        socket.once('error', reject)
      })
      if (socket.isSessionReused()) reused++
      socket.destroy()
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  await sleep(300)
  const cpuMs = (app.cpuTicks() - ticks0) / ctx.clkTck * 1000 / HANDSHAKES
  const kind = resumed ? 'resumed' : 'full'
  ctx.report.add(
    {
      scenario: 'tls',
      target: 'app',
      metric: `${kind}_handshakes_per_sec`,
      value: HANDSHAKES / seconds,
      unit: '/s',
      details: { handshakes: HANDSHAKES, parallel: PARALLEL, reused, gatewayCpuMsPerHandshake: cpuMs }
    },
    {
      label: `${kind} hs`,
      notes: [`gateway cpu ${num(cpuMs, 3)} ms/handshake`, `${reused}/${HANDSHAKES} resumed`, `${PARALLEL} at a time`]
    }
  )
}

interface FanInRun { rate: number, us: number }

async function fanInOnce (
  ctx: BenchContext,
  app: AppProcess,
  tlsPort: number,
  ca: string,
  overTls: boolean
): Promise<FanInRun> {
  const run = await fanIn({
    ...FANIN,
    port: overTls ? tlsPort : app.mqttPort,
    tls: overTls,
    clientOptions: overTls ? { ca, servername: 'localhost' } : {},
    topicPrefix: 'bench/tls',
    probes: { brokerTicks: () => readCpuTicks(app.pid) }
  })
  return {
    rate: run.msgsPerSec,
    us: run.received > 0 ? ((run.probeDeltas.brokerTicks / ctx.clkTck) * 1e6) / run.received : NaN
  }
}

/** A warm-up, then plain and TLS alternately, REPS times each, so that both see the same machine load. */
async function fanIns (ctx: BenchContext, app: AppProcess, tlsPort: number, ca: string): Promise<void> {
  await fanInOnce(ctx, app, tlsPort, ca, false)
  const runs: Record<'plain' | 'tls', FanInRun[]> = { plain: [], tls: [] }
  for (let i = 0; i < REPS; i++) {
    runs.plain.push(await fanInOnce(ctx, app, tlsPort, ca, false))
    runs.tls.push(await fanInOnce(ctx, app, tlsPort, ca, true))
  }
  for (const kind of ['plain', 'tls'] as const) {
    const all = runs[kind]
    const best = all.reduce((a, b) => b.rate > a.rate ? b : a)
    ctx.report.add(
      {
        scenario: 'tls',
        target: kind === 'tls' ? 'app mqtts' : 'app mqtt',
        metric: 'qos0_fanin',
        value: best.rate,
        unit: 'msg/s',
        details: { cpuUsPerMsg: best.us, reps: REPS }
      },
      {
        label: 'qos0 fan-in',
        notes: [
          fmt.usPerMsg(best.us),
          `all runs: ${all.map(r => `${num(r.rate)} msg/s ${num(r.us, 1)} µs`).join(', ')}`
        ]
      }
    )
  }
}

export const tlsScenario: Scenario = {
  name: 'tls',
  description:
    'TLS: full and resumed handshakes per second and gateway CPU per handshake; QoS 0 fan-in CPU over mqtts:// vs ' +
      'mqtt:// in the same run',
  targets: ['app'],
  async run (ctx) {
    ctx.report.header('tls', [
      `${HANDSHAKES} TLS 1.3 handshakes to mqtts:// (ECDSA P-256, verified against the gateway ` +
        `CA), ${PARALLEL} at a time, each closed once up;`,
      'resumed: each with the session ticket of one earlier connection.',
      `QoS 0 fan-in: ${FANIN.publishers} publishers → 1 subscriber, ${FANIN.payloadBytes} B, over mqtt:// and ` +
        `mqtts:// to the same process, after a warm-up, alternately ${REPS}× each, the fastest kept.`
    ])
    const app = await startApp(ctx.children, { root: ctx.root, env: ENV, name: 'app' })
    try {
      const port = Number(app.readyLine.mqttsPort)
      const ca = readFileSync(join(app.dataDir, 'tls', 'ca.crt'), 'utf8')
      await handshakes(ctx, app, port, ca, false)
      await handshakes(ctx, app, port, ca, true)
      await fanIns(ctx, app, port, ca)
    } finally {
      await app.stop()
    }
  }
}

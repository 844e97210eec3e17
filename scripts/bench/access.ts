/**
 * Access benchmark (issue 3, acceptance 3 and 5). Spawns the built gateway (`node dist/src/main.js start`)
 * and reads the broker process's CPU from /proc/<pid>/stat:
 *  1. 1,000 failed device logins in a burst from 127.0.0.2 (attacker.ts, its own process): how long a correct device
 *     takes to connect from 127.0.0.1 during the burst vs normally, and the gateway's CPU during the burst; three
 *     rounds with the default throttling, three guessing an unknown id (nothing hashed: the floor a burst of sockets
 *     sets on this machine), once with auth.penaltyMs = 0 (every attempt hashed) for contrast.
 *  2. QoS 0 fan-in: authenticated devices publishing to one subscriber, broker CPU µs per message, vs a bare
 *     Aedes (no hooks) with the same devices, topics and payloads in the same run (each broker first gets an
 *     unmeasured warm-up fan-in, and the devices' connections settle before the CPU is read), on two families:
 *     - device error reports (`autocore/devices/{uuid}/error`): the access path alone — authentication, ACL,
 *       payload schema validation, the whole publish pipeline and the router — on a family the gateway validates
 *       and forwards but does not store. This is issue 3's figure (target ≤ 1.3×).
 *     - telemetry: the same plus parsing and SQLite persistence (CPU read once every reading is written), which
 *       issue 4's bench measures against Mosquitto; printed so the storage cost is seen, not hidden.
 * Prints its own lines; asserts nothing.
 */
import 'reflect-metadata'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { packageRoot } from '../../src/paths.js'
import { cpuUs, startGateway, provision, timedConnect, median, p90, f1 } from './access-gateway.js'
import { fanInBoth } from './access-fanin.js'
import type { Scenario } from './scenario.js'

/**
 * `rounds` times: a fresh gateway, 15 timed connects of the correct device, then the same device connecting in a
 * loop while attacker.ts sends 1,000 wrong CONNECTs; the timings of all rounds pooled. `guess` is whom the attacker
 * claims to be: the provisioned target device (its guesses are hashed until the penalty) or an unknown id (nothing
 * is hashed: what the burst's sockets alone cost a 2-core machine that runs the attacker too).
 */
export async function burst (
  label: string,
  extraEnv: Record<string, string>,
  rounds = 1,
  guess: 'device' | 'unknown' = 'device'
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'autocore-bench-'))
  try {
    const { devices } = await provision(dir, 2)
    const [good, target] = devices
    const normal: number[] = []
    const during: number[] = []
    const walls: number[] = []
    let cpuMs = 0
    let measuredMs = 0
    const codes: Record<string, number> = {}
    for (let round = 0; round < rounds; round++) {
      const gw = await startGateway(dir, extraEnv)
      for (let i = 0; i < 15; i++) normal.push(await timedConnect(gw.mqttPort, good))
      const claimed = guess === 'device' ? target.uuid : randomUUID()
      const attacker = spawn(
        'nice',
        [
          '-n',
          '19',
          process.execPath,
          join(packageRoot, 'dist', 'scripts', 'bench', 'attacker.js'),
          String(gw.mqttPort),
          claimed,
          '1000',
          '50'
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] }
      )
      const lines = createInterface({ input: attacker.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
      await lines.next() // "go": sockets are about to open
      const cpu0 = cpuUs(gw.child.pid as number)
      const t0 = performance.now()
      const result = lines.next()
      const state = { done: false }
      void result.finally(() => { state.done = true })
      while (!state.done) during.push(await timedConnect(gw.mqttPort, good))
      const r = JSON.parse((await result).value as string) as { wallMs: number, codes: Record<string, number> }
      measuredMs += performance.now() - t0
      cpuMs += (cpuUs(gw.child.pid as number) - cpu0) / 1000
      walls.push(r.wallMs)
      for (const [c, n] of Object.entries(r.codes)) codes[c] = (codes[c] ?? 0) + n
      await gw.stop()
    }
    const codeText = Object.entries(codes).sort().map(([c, n]) => `${n}× CONNACK ${c}`).join(', ')
    console.log(
      `access: failed-login burst (${label}), ${rounds} round${rounds > 1 ? 's' : ''} of 1000 attempts from ` +
        `127.0.0.2 in median ${f1(median(walls))} ms (${codeText}); ` +
        `gateway CPU ${f1((100 * cpuMs) / measuredMs)}% of one core; correct device from 127.0.0.1 connects in ` +
        `median ${f1(median(during))} ms (p90 ${f1(p90(during))}, max ${f1(Math.max(...during))}, ` +
        `n=${during.length}) during vs ` +
        `median ${f1(median(normal))} ms (p90 ${f1(p90(normal))}, n=${normal.length}) normally: ` +
        `${(median(during) / median(normal)).toFixed(2)}×`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function run (): Promise<void> {
  await burst('default throttling, guessing a device\'s secret', {}, 3)
  await burst('control: guessing an unknown id, nothing hashed', {}, 3, 'unknown')
  await burst('no penalty: every attempt hashed', { AUTOCORE_AUTH_PENALTY_MS: '0' })
  await fanInBoth()
}

export const accessScenario: Scenario = {
  name: 'access',
  description:
    '1,000 failed logins from one address vs a good device; QoS 0 fan-in, authenticated + ACL + schemas vs bare ' +
      'Aedes (error reports: access path; telemetry: + SQLite)',
  targets: ['app'],
  run: async () => {
    console.log('\n== access: failed-login burst, authenticated fan-in')
    await run()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()

/**
 * Packet-size limit benchmark (#13, acceptance 3): 1,000 TCP sockets, each announcing a 256 MB CONNECT in its
 * fixed header and then sending its first 256 kB, against the real gateway. Prints the gateway's RSS growth while
 * they are open (peak over the baseline) and its RSS once they have closed, for:
 *  - app: the defaults (mqtt.maxConnectBytes 64 kB: each socket is cut at its fixed header);
 *  - app-unlimited: mqtt.maxConnectBytes and mqtt.maxPacketBytes at MQTT's maximum, as before the limit (each
 *    socket's bytes are buffered until the connect timeout or the close).
 * Asserts nothing.
 */
import net from 'node:net'
import { sleep, startApp, type AppProcess } from './proc.js'
import { varint } from './telemetry/mqtt-wire.js'
import type { BenchContext, Scenario } from './scenario.js'

const SOCKETS = 1000
const PARALLEL = 100
// 256 MB (10^6): 256 MiB is past MQTT's largest remaining length (268,435,455).
const ANNOUNCED = 256_000_000
const SENT = 256 * 1024
const CHUNK = 16 * 1024

/**
 * Opens one socket, announces the CONNECT, sends SENT bytes of it while the gateway lets it; resolves with the
 * socket.
 */
async function announce (port: number): Promise<{ socket: net.Socket, cut: Promise<boolean> }> {
  const socket = net.connect({ host: '127.0.0.1', port })
  socket.on('error', () => {})
  await new Promise<void>(resolve => { socket.once('connect', () => resolve()); socket.once('close', () => resolve()) })
  const cut = new Promise<boolean>(resolve => socket.once('close', () => resolve(true)))
  const header = Buffer.from([0x10, ...varint(ANNOUNCED), 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60])
  socket.write(header)
  const chunk = Buffer.alloc(CHUNK, 0x61)
  for (let sent = 0; sent < SENT && !socket.destroyed; sent += CHUNK) {
    if (!socket.write(chunk)) {
      await new Promise(resolve => {
        socket.once('drain', resolve)
        socket.once('close', resolve)
      })
    }
  }
  return { socket, cut }
}

async function run (ctx: BenchContext, target: string, app: AppProcess): Promise<void> {
  await sleep(500)
  const before = app.rssKb()
  let peak = before
  const sample = setInterval(() => { try { peak = Math.max(peak, app.rssKb()) } catch {} }, 20)
  const opened: Array<{ socket: net.Socket, cut: Promise<boolean> }> = []
  let next = 0
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < SOCKETS) {
      next++
      opened.push(await announce(app.mqttPort))
    }
  }))
  await sleep(1000)
  const cut = opened.filter(o => o.socket.destroyed).length
  for (const o of opened) o.socket.destroy()
  await sleep(2000)
  clearInterval(sample)
  const after = app.rssKb()
  const mb = (kb: number): string => (kb / 1024).toFixed(1)
  ctx.report.add(
    {
      scenario: 'limits',
      target,
      metric: 'big_connect_rss_growth',
      value: (peak - before) / 1024,
      unit: 'MB',
      details: {
        sockets: SOCKETS,
        announcedBytes: ANNOUNCED,
        sentBytes: SENT,
        cutByGateway: cut,
        baselineKb: before,
        peakKb: peak,
        afterCloseKb: after
      }
    },
    {
      label: '256MB CONNECT',
      digits: 1,
      notes: [
        `x${SOCKETS} sockets: RSS ` +
          `growth ${mb(peak - before)} MB (baseline ${mb(before)} MB, peak ${mb(peak)} MB), after ` +
            `close ${mb(after)} MB; ${cut} cut by the gateway`
      ]
    }
  )
}

export const limitsScenario: Scenario = {
  name: 'limits',
  description: `${SOCKETS} sockets each announcing a 256 MB CONNECT (sending its first 256 kB): gateway RSS growth ` +
    'and RSS after they close',
  targets: ['app', 'app-unlimited'],
  async run (ctx, targets) {
    for (const target of targets ?? this.targets) {
      const env: Record<string, string> =
        target === 'app-unlimited'
          ? { AUTOCORE_MQTT_MAX_CONNECT_BYTES: '268435455', AUTOCORE_MQTT_MAX_PACKET_BYTES: '268435455' }
          : {}
      const app = await startApp(ctx.children, { root: ctx.root, env, name: target })
      try {
        await run(ctx, target, app)
      } finally {
        await app.stop()
      }
    }
  }
}

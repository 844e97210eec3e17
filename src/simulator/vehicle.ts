import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import type { RelayFunction } from '../../entities/relay-channel.js'
import type { Repositories } from '../persistence/repositories/index.js'
import { provisionDevice, rotateDeviceSecret } from '../services/provisioning.js'
import type { Client } from './board-types.js'
import { announce, offlineWill } from './board-wire.js'
import { SimRelayBoard } from './boards.js'
import { ENGINE_SIGNALS, sample } from './signals.js'

// `autocore-gateway simulate`: a vehicle's boards against a running gateway.

export type BoardKind = 'sensors' | 'relays' | 'display' | 'estop'

export interface SimDevice { uuid: string, kind: BoardKind, name: string, type: string, capabilities: string[] | null }

export interface RelayLayout {
  channel: number
  name: string
  function: RelayFunction
  mutexGroup?: string
  maxOnMs?: number
  pulseMs?: number
  failSafe?: 'off' | 'hold'
}

/**
 * The relay board's channels: lights, a horn held while pressed, a latch pulsed, a winch whose two directions exclude
 * each other.
 */
export const RELAY_LAYOUT: RelayLayout[] = [
  { channel: 1, name: 'Headlights', function: 'toggle' },
  { channel: 2, name: 'Work lights', function: 'toggle' },
  { channel: 3, name: 'Horn', function: 'momentary' },
  { channel: 4, name: 'Fuel pump', function: 'toggle' },
  { channel: 5, name: 'Door latch', function: 'pulse', pulseMs: 300 },
  { channel: 6, name: 'Winch in', function: 'toggle', mutexGroup: 'winch', maxOnMs: 60_000, failSafe: 'off' },
  { channel: 7, name: 'Winch out', function: 'toggle', mutexGroup: 'winch', maxOnMs: 60_000, failSafe: 'off' },
  { channel: 8, name: 'Compressor', function: 'toggle', maxOnMs: 600_000 }
]

const KINDS: BoardKind[] = ['sensors', 'relays', 'display', 'estop']
const NAMES: Record<BoardKind, string> = {
  sensors: 'Engine bay sensors',
  relays: 'Cab relay board',
  display: 'Dash display',
  estop: 'Emergency button'
}
const TYPES: Record<BoardKind, { type: string, capabilities: string[] | null }> = {
  sensors: { type: 'sensor', capabilities: null },
  relays: { type: 'relay_board', capabilities: null },
  display: { type: 'display', capabilities: ['display'] },
  estop: { type: 'emergency_button', capabilities: ['emergency_button'] }
}

/**
 * The vehicle of `--devices n`: a sensor board, a relay board, a display and an emergency button, then more sensor and
 * relay boards in turn.
 */
export function vehicleDevices (n: number): SimDevice[] {
  const count: Partial<Record<BoardKind, number>> = {}
  return Array.from({ length: n }, (_, i) => {
    const kind = i < KINDS.length ? KINDS[i] : (i % 2 === 0 ? 'sensors' : 'relays')
    const k = count[kind] = (count[kind] ?? 0) + 1
    return { uuid: `sim-${kind}-${k}`, kind, name: k === 1 ? NAMES[kind] : `${NAMES[kind]} ${k}`, ...TYPES[kind] }
  })
}

/** Where the simulated devices' secrets are kept between runs (mode 0600, beside the database). */
export const secretsFile = (dataDir: string): string => join(dataDir, 'simulator.json')

/**
 * Provisions what is missing (devices, relay channels) straight in the database, as `device add` does, and returns
 * each device's secret: from the secrets file when it is there, else a new one (rotated when the device exists).
 */
export async function provisionVehicle (
  repos: Repositories,
  dataDir: string,
  devices: SimDevice[],
  now: () => number,
  opts: { rotate?: boolean } = {}
): Promise<{ secrets: Record<string, string>, created: string[] }> {
  const file = secretsFile(dataDir)
  // rotate: the kept secrets were refused (the database was restored, a secret rotated by hand): issue new ones.
  const secrets =
    existsSync(file) && opts.rotate !== true
      ? (JSON.parse(readFileSync(file, 'utf8')) as { secrets: Record<string, string> }).secrets
      : {}
  const created: string[] = []
  // Devices in parallel (hashing a secret takes tens of milliseconds, on the thread pool), then their channels.
  await Promise.all(devices.map(async d => {
    if (await repos.devices.byUuid(d.uuid) === undefined) {
      secrets[d.uuid] = (
        await provisionDevice(
          repos.devices,
          { uuid: d.uuid, name: d.name, type: d.type, capabilities: d.capabilities },
          now
        )
      ).secret
      created.push(d.uuid)
    } else if (secrets[d.uuid] === undefined) {
      secrets[d.uuid] = await rotateDeviceSecret(repos.devices, d.uuid, now)
    }
  }))
  created.sort((a, b) => devices.findIndex(d => d.uuid === a) - devices.findIndex(d => d.uuid === b))
  for (const d of devices.filter(d => d.kind === 'relays')) {
    const device = await repos.devices.byUuid(d.uuid)
    for (const c of RELAY_LAYOUT) {
      await repos.relays.create(
        device!.id,
        {
          channelNumber: c.channel,
          name: c.name,
          function: c.function,
          mutexGroup: c.mutexGroup ?? null,
          maxOnMs: c.maxOnMs ?? null,
          pulseMs: c.pulseMs ?? null,
          defaultState: false,
          enabled: true,
          failSafe: c.failSafe ?? 'hold'
        },
        now()
      )
    }
  }
  writeFileSync(file, JSON.stringify({ secrets }, null, 2) + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return { secrets, created }
}

export interface RunningVehicle {
  relayBoards: SimRelayBoard[]
  /** Presses the emergency button (publishes autocore/emergency/stop as the button's firmware does). */
  pressEmergency: () => Promise<void>
  /** Readings published so far, per device. */
  published: Map<string, number>
  stop: () => Promise<void>
}

/**
 * Connects every device (client id = username = its uuid, password = its secret, an offline Last Will) and runs
 * it: sensor boards publish ENGINE_SIGNALS `rate` times a second, relay boards obey, the display follows the
 * others, the button waits to be pressed. Each board announces itself and its status after every (re)connect.
 */
export async function runVehicle (
  mqttUrl: string,
  devices: SimDevice[],
  secrets: Record<string, string>,
  opts: { rate: number, onLine?: (line: string) => void }
): Promise<RunningVehicle> {
  const started = Date.now()
  const clients: Client[] = []
  const timers: NodeJS.Timeout[] = []
  const relayBoards: SimRelayBoard[] = []
  const published = new Map<string, number>()
  let estop: { client: Client, uuid: string } | undefined
  const say = opts.onLine ?? (() => {})

  const setUp = async (d: SimDevice, i: number): Promise<void> => {
    const client = mqtt.connect(mqttUrl, {
      clientId: d.uuid,
      username: d.uuid,
      password: secrets[d.uuid],
      will: offlineWill(d.uuid),
      reconnectPeriod: 1000,
      connectTimeout: 5000
    })
    clients.push(client)
    client.on('connect', () => {
      say(`${d.uuid} connected`)
      void announce(client, d.uuid, {
        type: d.type,
        name: d.name,
        capabilities: d.capabilities ?? undefined,
        uptimeS: (Date.now() - started) / 1000
      }).catch(() => {})
    })
    client.on('error', err => { say(`${d.uuid}: ${err.message}`) })
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
      client.once('close', () => reject(new Error('connection closed before CONNACK')))
    })
    if (d.kind === 'sensors') {
      const phase = i / 7
      timers.push(setInterval(() => {
        const t = (Date.now() - started) / 1000
        if (!client.connected) return
        published.set(d.uuid, (published.get(d.uuid) ?? 0) + ENGINE_SIGNALS.length)
        client.publish(`autocore/devices/${d.uuid}/telemetry`, JSON.stringify(sample(ENGINE_SIGNALS, t, phase)), {
          qos: 0
        })
      }, Math.max(10, 1000 / opts.rate)))
    } else if (d.kind === 'relays') {
      const board = new SimRelayBoard(d.uuid, client, {
        channels: RELAY_LAYOUT.map(c => c.channel),
        realistic: true,
        // The board keeps the gateway heartbeat contract: its fail_safe 'off' channels (the winch) open by themselves
        // when the gateway is gone, and it reports the trip when the gateway is back.
        deadman: true,
        mutexGroups: Object.fromEntries(
          RELAY_LAYOUT.filter(c => c.mutexGroup !== undefined).map(c => [c.channel, c.mutexGroup!])
        )
      })
      await board.start()
      relayBoards.push(board)
    } else if (d.kind === 'display') {
      // The dash display reads every board's status, telemetry and relay state (display devices may) and reports its
      // backlight.
      await client.subscribeAsync(
        [
          'autocore/devices/+/status',
          'autocore/devices/+/telemetry',
          'autocore/relays/+/state',
          'autocore/emergency/state'
        ],
        { qos: 0 }
      )
      timers.push(setInterval(() => {
        const t = (Date.now() - started) / 1000
        if (client.connected) {
          client.publish(
            `autocore/devices/${d.uuid}/telemetry`,
            JSON.stringify({
              backlight: { value: Math.round(60 + 30 * Math.sin((2 * Math.PI * t) / 900)), unit: '%' }
            }),
            { qos: 0 }
          )
        }
      }, 5000))
    } else {
      estop = { client, uuid: d.uuid }
      await client.subscribeAsync('autocore/emergency/state', { qos: 1 })
    }
  }

  // Every board connects at once; the first CONNECT of each must succeed (a wrong secret, no gateway), else every
  // board is ended and the run fails.
  const failed = (await Promise.allSettled(devices.map(setUp))).find(r => r.status === 'rejected')
  if (failed !== undefined) {
    for (const timer of timers) clearInterval(timer)
    await Promise.all(clients.map(async c => { await c.endAsync(true).catch(() => {}) }))
    throw failed.reason
  }
  relayBoards.sort((a, b) => a.uuid.localeCompare(b.uuid, 'en', { numeric: true }))

  return {
    relayBoards,
    published,
    pressEmergency: async () => {
      if (estop === undefined) throw new Error('no emergency button in this vehicle')
      await estop.client.publishAsync(
        'autocore/emergency/stop',
        JSON.stringify({ reason: 'emergency button pressed' }),
        { qos: 1 }
      )
    },
    stop: async () => {
      for (const timer of timers) clearInterval(timer)
      for (const b of relayBoards) b.stop()
      // A clean DISCONNECT: the gateway marks each board offline at once (its Last Will is not published).
      await Promise.all(clients.map(async c => { await c.endAsync().catch(() => {}) }))
    }
  }
}

import type { Test } from 'tap'
import { Device, RelayChannel, type RelayFunction } from '../../entities/index.js'
import type { RunningApp } from './app.js'
import { deviceClient } from './devices.js'
import { SimRelayBoard } from '../../src/simulator/boards.js'
import { connect, type Client } from './mqtt.js'

export interface ChannelSpec {
  channel: number
  name?: string
  function?: RelayFunction
  mutexGroup?: string
  maxOnMs?: number
  pulseMs?: number
  enabled?: boolean
  failSafe?: 'off' | 'hold'
}

/** Adds relay_channels rows for a provisioned device; returns their ids by channel number. */
export async function addChannels (
  app: RunningApp,
  uuid: string,
  specs: ChannelSpec[]
): Promise<Record<number, number>> {
  const ds = app.gateway.services.db.dataSource
  const device = await ds.getRepository(Device).findOneByOrFail({ uuid })
  const ids: Record<number, number> = {}
  for (const s of specs) {
    const r = await ds.getRepository(RelayChannel).insert({
      deviceId: device.id,
      channelNumber: s.channel,
      name: s.name ?? `ch${s.channel}`,
      function: s.function ?? 'toggle',
      mutexGroup: s.mutexGroup ?? null,
      maxOnMs: s.maxOnMs ?? null,
      pulseMs: s.pulseMs ?? null,
      enabled: s.enabled ?? true,
      failSafe: s.failSafe ?? 'hold',
      updatedAt: Date.now()
    })
    ids[s.channel] = r.identifiers[0].id as number
  }
  return ids
}

export type { DeadmanState, ReceivedCommand } from '../../src/simulator/board-types.js'

/**
 * A simulated ESP32 relay board over a real socket: src/simulator/boards.ts's SimRelayBoard (the one implementation,
 * the firmware reference, that `autocore-gateway simulate` runs too) with `realistic: false`: it applies relay
 * actions at once and leaves all timing to the gateway. `reconnect(url)` connects it again (a new connection, e.g.
 * to a restarted gateway on a new port), subscribes and reports its state.
 */
export type SimBoard = Omit<SimRelayBoard, 'reconnect'> & { secret: string, reconnect: (url: string) => Promise<void> }

export async function simBoard (
  t: Test,
  app: RunningApp,
  opts: {
    uuid?: string
    channels?: ChannelSpec[]
    mode?: SimBoard['mode']
    capabilities?: string[]
    deadman?: boolean
  } = {}
): Promise<SimBoard> {
  const { client, uuid, secret } = await deviceClient(t, app, {
    uuid: opts.uuid,
    type: 'relay_board',
    capabilities: opts.capabilities
  })
  if (opts.channels !== undefined) await addChannels(app, uuid, opts.channels)
  return await boardOn(t, client, {
    uuid,
    secret,
    channels: (opts.channels ?? []).map(c => c.channel),
    mode: opts.mode,
    deadman: opts.deadman
  })
}

/**
 * A simulated board for a device provisioned elsewhere (e.g. before a real process started), connected to `url`.
 */
export async function simBoardAt (
  t: Test,
  url: string,
  opts: { uuid: string, secret: string, channels: number[], mode?: SimBoard['mode'], deadman?: boolean }
): Promise<SimBoard> {
  const client = await connect(t, url, { clientId: opts.uuid, username: opts.uuid, password: opts.secret })
  return await boardOn(t, client, opts)
}

async function boardOn (
  t: Test,
  client: Client,
  opts: { uuid: string, secret: string, channels: number[], mode?: SimBoard['mode'], deadman?: boolean }
): Promise<SimBoard> {
  const sim = new SimRelayBoard(opts.uuid, client, {
    channels: opts.channels,
    mode: opts.mode,
    deadman: opts.deadman,
    realistic: false
  })
  t.teardown(() => { sim.stop() })
  await sim.start()
  const reconnect = sim.reconnect.bind(sim)
  return Object.assign(sim, {
    secret: opts.secret,
    reconnect: async (url: string) => {
      const next = await connect(t, url, { clientId: opts.uuid, username: opts.uuid, password: opts.secret })
      next.on('error', () => {})
      await reconnect(next)
    }
  }) as SimBoard
}

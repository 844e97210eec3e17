import type { Test } from 'tap'
import { Device, RelayChannel, type RelayFunction } from '../../entities/index.js'
import { SimRelayBoard } from '../../src/simulator/boards.js'
import type { RunningApp } from './app.js'
import { deviceClient } from './devices.js'

export interface ChannelSpec { channel: number, name?: string, function?: RelayFunction, mutexGroup?: string, maxOnMs?: number, pulseMs?: number, enabled?: boolean }

/** Adds relay_channels rows for a provisioned device; returns their ids by channel number. */
export async function addChannels (app: RunningApp, uuid: string, specs: ChannelSpec[]): Promise<Record<number, number>> {
  const ds = app.gateway.ctx.db.dataSource
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
      updatedAt: Date.now()
    })
    ids[s.channel] = r.identifiers[0].id as number
  }
  return ids
}

export type { ReceivedCommand } from '../../src/simulator/boards.js'

/**
 * A simulated ESP32 relay board over a real socket (src/simulator/boards.ts, the one implementation that
 * `autocore-gateway simulate` runs too): it answers every command on its command topics with a response
 * (`mode` 'ok' | 'error' | 'silent', or 'ack-only': answers ok but never switches), applies relay actions to its
 * channels at once and reports them (retained) on `relays/{uuid}/state`. `history` records, in order, every state
 * change as the board saw it.
 */
export type SimBoard = SimRelayBoard

export async function simBoard (t: Test, app: RunningApp, opts: { uuid?: string, channels?: ChannelSpec[], mode?: SimBoard['mode'], capabilities?: string[] } = {}): Promise<SimBoard> {
  const { client, uuid } = await deviceClient(t, app, { uuid: opts.uuid, type: 'relay_board', capabilities: opts.capabilities })
  if (opts.channels !== undefined) await addChannels(app, uuid, opts.channels)
  const board = new SimRelayBoard(uuid, client, { channels: (opts.channels ?? []).map(c => c.channel), mode: opts.mode, realistic: false })
  t.teardown(() => { board.stop() })
  await board.start()
  return board
}

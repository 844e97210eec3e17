import type { Test } from 'tap'
import { Device, RelayChannel, type RelayFunction } from '../../entities/index.js'
import type { RunningApp } from './app.js'
import { deviceClient } from './devices.js'
import type { Client } from './mqtt.js'

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

export interface ReceivedCommand { topic: string, body: Record<string, any> }

/**
 * A simulated ESP32 relay board over a real socket: it answers every command on its command topics with a response
 * (`mode` 'ok' | 'error' | 'silent', or 'ack-only': answers ok but never switches), applies relay actions to its channels and reports them (retained) on
 * `relays/{uuid}/state`. `history` records, in order, every state change as the board saw it.
 */
export interface SimBoard {
  uuid: string
  client: Client
  commands: ReceivedCommand[]
  state: Map<number, boolean>
  history: Array<Record<number, boolean>>
  mode: 'ok' | 'error' | 'silent' | 'ack-only'
}

export async function simBoard (t: Test, app: RunningApp, opts: { uuid?: string, channels?: ChannelSpec[], mode?: SimBoard['mode'], capabilities?: string[] } = {}): Promise<SimBoard> {
  const { client, uuid } = await deviceClient(t, app, { uuid: opts.uuid, type: 'relay_board', capabilities: opts.capabilities })
  if (opts.channels !== undefined) await addChannels(app, uuid, opts.channels)
  const board: SimBoard = { uuid, client, commands: [], state: new Map(), history: [], mode: opts.mode ?? 'ok' }
  for (const c of opts.channels ?? []) board.state.set(c.channel, false)
  client.on('message', (topic, payload) => {
    if (!topic.endsWith('/command')) return
    const body = JSON.parse(payload.toString()) as Record<string, any>
    board.commands.push({ topic, body })
    if (board.mode === 'silent') return
    if (topic.startsWith('autocore/relays/') && board.mode === 'ok') {
      const ch = Number(body.channel)
      const on = body.action === 'on' || (body.action === 'toggle' && board.state.get(ch) !== true)
      board.state.set(ch, body.action === 'pulse' ? false : on)
      board.history.push(Object.fromEntries(board.state))
      void client.publishAsync(`autocore/relays/${uuid}/state`, JSON.stringify({ channels: Object.fromEntries(board.state) }), { qos: 1, retain: true }).catch(() => {})
    }
    void client.publishAsync(`autocore/devices/${uuid}/response`, JSON.stringify({ command_id: body.command_id, status: board.mode === 'error' ? 'error' : 'ok', message: board.mode === 'error' ? 'relay driver fault' : undefined }), { qos: 1 }).catch(() => {})
  })
  await client.subscribeAsync([`autocore/relays/${uuid}/command`, `autocore/devices/${uuid}/command`, 'autocore/emergency/#'], { qos: 1 })
  return board
}

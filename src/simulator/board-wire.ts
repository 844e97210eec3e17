// What every simulated board sends as the firmware does: its will, its announce and online status.
import type { Client } from './board-types.js'

/** The Last Will every simulated board sets, as the firmware does: offline, retained, when its socket dies. */
export const offlineWill = (uuid: string): { topic: string, payload: Buffer, qos: 1, retain: true } =>
  ({ topic: `autocore/devices/${uuid}/status`, payload: Buffer.from('{"status":"offline"}'), qos: 1, retain: true })

/** A board's announce and retained online status, as the firmware sends them after each CONNACK. */
export async function announce (
  client: Client,
  uuid: string,
  info: { type: string, name: string, capabilities?: string[], uptimeS: number }
): Promise<void> {
  await client.publishAsync(
    `autocore/devices/${uuid}/announce`,
    JSON.stringify({ type: info.type, name: info.name, firmware: 'sim-1.0.0', capabilities: info.capabilities }),
    { qos: 1 }
  )
  await client.publishAsync(
    `autocore/devices/${uuid}/status`,
    JSON.stringify({ status: 'online', uptime: Math.round(info.uptimeS), rssi: -58, free_heap: 182_000 }),
    { qos: 1, retain: true }
  )
}

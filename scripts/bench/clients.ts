import { Socket } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

// The load generator's MQTT clients (see load.ts): connected without Nagle, closed without waiting forever.

const CLOSE_TIMEOUT_MS = 3000

export async function connectClient (url: string, clientId: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    clientId,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 60,
    ...extra
  })
  // An 'error' without a listener would crash the bench; the stall check reports the consequence.
  client.on('error', () => {})
  // MQTT.js leaves Nagle on: small PUBLISH/PUBACK segments would then wait for the peer's delayed ACK, and the
  // bench would measure that instead of the broker.
  if (client.stream instanceof Socket) client.stream.setNoDelay(true)
  return client
}

export async function closeClients (clients: MqttClient[]): Promise<void> {
  await Promise.all(clients.map(async client => {
    const timer = setTimeout(() => client.end(true), CLOSE_TIMEOUT_MS)
    try {
      await client.endAsync()
    } catch {
      client.end(true)
    } finally {
      clearTimeout(timer)
    }
  }))
}

import { createLogger } from '../log.js'
import { openDatabase } from '../persistence/database.js'
import { createRepositories } from '../persistence/repositories/index.js'
import { provisionVehicle, runVehicle, vehicleDevices } from '../simulator/vehicle.js'
import { localHost } from './health.js'
import { configFor, CliExit, EXIT, type CliIo } from './io.js'
import type { Signals } from './start.js'

export interface SimulateOptions { config?: string, devices?: string, rate?: string, mqttUrl?: string }

/**
 * `autocore-gateway simulate`: a simulated vehicle against a running gateway, until SIGINT/SIGTERM. Provisions
 * its devices and relay channels on first use straight in the database named by the config (as `device add` does;
 * safe while the gateway runs), keeps their secrets in <dataDir>/simulator.json, then connects them over MQTT.
 */
export async function simulate (io: CliIo, opts: SimulateOptions, signals: Signals): Promise<number> {
  const config = configFor(io, opts.config)
  const n = Number(opts.devices ?? 4)
  const rate = Number(opts.rate ?? 1)
  if (!Number.isInteger(n) || n < 1 || n > 500) {
    io.err('--devices must be an integer from 1 to 500')
    throw new CliExit(EXIT.config)
  }
  if (!Number.isFinite(rate) || rate <= 0 || rate > 100) {
    io.err('--rate must be a number of readings per second, above 0 and at most 100')
    throw new CliExit(EXIT.config)
  }
  const devices = vehicleDevices(n)

  const provision = async (rotate: boolean): Promise<Record<string, string>> => {
    const db = await openDatabase(
      config,
      createLogger({ log: { ...config.log, level: 'warn' } }).child({ module: 'cli' })
    )
    try {
      const provisioned = await provisionVehicle(createRepositories(db), config.dataDir, devices, Date.now, { rotate })
      if (provisioned.created.length > 0) io.out(`provisioned ${provisioned.created.join(', ')}`)
      return provisioned.secrets
    } finally {
      await db.close()
    }
  }

  const mqttUrl = opts.mqttUrl ?? `mqtt://${localHost(config.mqtt.host)}:${config.mqtt.port}`
  let vehicle
  try {
    vehicle = await runVehicle(mqttUrl, devices, await provision(false), { rate, onLine: line => io.out(line) })
  } catch (err) {
    // CONNACK 4: a kept secret no longer matches the database (restored, rotated by hand): new secrets, once.
    if ((err as { code?: unknown }).code === 4) {
      io.out('the kept device secrets were refused: rotating them')
      vehicle = await runVehicle(mqttUrl, devices, await provision(true), { rate, onLine: line => io.out(line) }).catch(
        () => undefined
      )
    }
    if (vehicle === undefined) {
      io.err(`cannot connect to ${mqttUrl}: ${(err as Error).message} (is the gateway running? npm start)`)
      return EXIT.failed
    }
  }
  io.out(
    `simulating ${n} devices (${devices.map(d => d.uuid).join(', ')}) on ${mqttUrl}, telemetry at ${rate}/s; Ctrl-C ` +
      'stops'
  )
  const running = vehicle
  return await new Promise<number>(resolve => {
    let stopping = false
    const onSignal = (): void => {
      if (stopping) return
      stopping = true
      running.stop().then(() => {
        const readings = [...running.published.values()].reduce((a, b) => a + b, 0)
        io.out(`stopped: ${readings} readings published`)
        resolve(EXIT.ok)
      }, () => resolve(EXIT.failed))
    }
    signals.once('SIGINT', onSignal)
    signals.once('SIGTERM', onSignal)
  })
}

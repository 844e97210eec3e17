import { randomUUID } from 'node:crypto'
import type { Command } from 'commander'
import { hashSecret, randomSecret } from '../auth/passwords.js'
import { GatewayError } from '../errors.js'
import { DEVICE_ID } from '../gateway/topics.js'
import { notFound, printTable, withRepos } from './admin-db.js'
import type { CliIo } from './io.js'

type Opts = { config?: string, json?: boolean }

/** `autocore-gateway device add|list|disable|enable|approve|rotate-secret`. */
export function registerDeviceCommands (program: Command, io: CliIo, configOption: readonly [string, string], setCode: (code: number) => void): void {
  const device = program.command('device').description('provision and manage devices (opens the database directly)')

  device.command('add')
    .description('provision a device; prints its UUID and secret once (the secret is stored only as a hash)')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--type <type>', 'relay_board, display, sensor, can_bridge, emergency_button, ...')
    .option('--uuid <uuid>', 'device id (default: a new random UUID)')
    .option('--capabilities <list>', 'comma-separated capabilities, e.g. emergency_button,display')
    .option('--json', 'print {"uuid","secret"}')
    .option(...configOption)
    .action(async (opts: Opts & { name: string, type: string, uuid?: string, capabilities?: string }) => {
      setCode(await withRepos(io, opts, async repos => {
        const uuid = opts.uuid ?? randomUUID()
        if (!DEVICE_ID.test(uuid)) throw new GatewayError('GW_ERR_DEVICE_INVALID_ID', `not a valid device id: ${uuid}`)
        if (await repos.devices.byUuid(uuid) !== undefined) throw new GatewayError('GW_ERR_DEVICE_EXISTS', `device ${uuid} already exists`)
        const secret = randomSecret()
        const capabilities = opts.capabilities === undefined ? null : opts.capabilities.split(',').map(s => s.trim()).filter(Boolean)
        await repos.devices.create({ uuid, name: opts.name, type: opts.type, secretHash: await hashSecret(secret), capabilities }, Date.now())
        if (opts.json === true) io.out(JSON.stringify({ uuid, secret }))
        else io.out(`uuid:   ${uuid}\nsecret: ${secret}\n(the secret is shown only now: MQTT username and client id = uuid, password = secret)`)
      }))
    })

  device.command('list')
    .description('list devices')
    .option('--json', 'print a JSON array')
    .option(...configOption)
    .action(async (opts: Opts) => {
      setCode(await withRepos(io, opts, async repos => {
        const rows = (await repos.devices.list()).map(d => ({
          uuid: d.uuid,
          name: d.name,
          type: d.type,
          status: d.status,
          enabled: d.enabled,
          capabilities: d.capabilities ?? [],
          firmware: d.firmware,
          ipAddress: d.ipAddress,
          lastSeen: d.lastSeen === null ? null : new Date(d.lastSeen).toISOString()
        }))
        printTable(io, opts.json, rows, ['uuid', 'name', 'type', 'status', 'enabled', 'ipAddress', 'lastSeen'])
      }))
    })

  const toggle = (name: string, description: string, patch: (status: string) => { enabled?: boolean, status?: 'offline' }): void => {
    device.command(`${name} <uuid>`)
      .description(description)
      .option('--json', 'print the result as JSON')
      .option(...configOption)
      .action(async (uuid: string, opts: Opts) => {
        setCode(await withRepos(io, opts, async repos => {
          const d = await repos.devices.byUuid(uuid)
          if (d === undefined) throw notFound('device', uuid)
          await repos.devices.update(uuid, patch(d.status), Date.now())
          io.out(opts.json === true ? JSON.stringify({ uuid, [name === 'approve' ? 'approved' : 'enabled']: name !== 'disable' }) : `${name}d ${uuid}`)
        }))
      })
  }
  toggle('disable', 'refuse the device from its next CONNECT (CONNACK 5)', () => ({ enabled: false }))
  toggle('enable', 'accept the device again', () => ({ enabled: true }))
  toggle('approve', 'approve a pending (auto-registered) device: full device rights from its next CONNECT', s => s === 'pending' ? { status: 'offline' } : {})

  device.command('rotate-secret <uuid>')
    .description('issue a new secret (the old one stops working at once); prints it once')
    .option('--json', 'print {"uuid","secret"}')
    .option(...configOption)
    .action(async (uuid: string, opts: Opts) => {
      setCode(await withRepos(io, opts, async repos => {
        const secret = randomSecret()
        if (!await repos.devices.update(uuid, { secretHash: await hashSecret(secret) }, Date.now())) throw notFound('device', uuid)
        io.out(opts.json === true ? JSON.stringify({ uuid, secret }) : `uuid:   ${uuid}\nsecret: ${secret}`)
      }))
    })
}

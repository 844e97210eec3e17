import { X509Certificate } from 'node:crypto'
import type { Repositories } from '../persistence/repositories/index.js'
import { approveDevice, provisionDevice, rotateDeviceSecret } from '../services/provisioning.js'
import { dbAction, notFound, printTable, withRepos, type DbOpts } from './admin-db.js'
import { configFor, type CommandSetup } from './io.js'
import { createClientCert, type KeyPairPem } from '../tls/certificates.js'
import { clientCaPem, ensureCa } from '../tls/material.js'
import type { Config } from '../config/types.js'

type Opts = DbOpts

/**
 * A new client certificate for the device (mutual TLS), recorded as its only one: a certificate issued before it
 * is refused from its next CONNECT, and a live session it opened ends at the next session recheck.
 */
async function issueCertificate (config: Config, repos: Repositories, uuid: string): Promise<KeyPairPem> {
  if (await repos.devices.byUuid(uuid) === undefined) throw notFound('device', uuid)
  const client = await createClientCert(await ensureCa(config, Date.now()), uuid, Date.now(), config.tls.clientCertDays)
  const certSerial = new X509Certificate(client.cert).serialNumber.toUpperCase()
  if (!await repos.devices.update(uuid, { certSerial }, Date.now())) throw notFound('device', uuid)
  return client
}

/** `autocore-gateway device add|list|disable|enable|approve|rotate-secret|cert|revoke-cert`. */
export function registerDeviceCommands (setup: CommandSetup): void {
  const { program, io, configOption, setCode } = setup
  const device = program.command('device').description('provision and manage devices (opens the database directly)')

  device.command('add')
    .description('provision a device; prints its UUID and secret once (the secret is stored only as a hash)')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--type <type>', 'relay_board, display, sensor, can_bridge, emergency_button, ...')
    .option('--uuid <uuid>', 'device id (default: a new random UUID)')
    .option('--capabilities <list>', 'comma-separated capabilities, e.g. emergency_button,display')
    .option('--cert', 'also issue a client certificate (mutual TLS on tls.mqtt: CN = uuid, no password needed); its ' +
      'key is shown only now')
    .option('--json', 'print {"uuid","secret","ca"} (ca: the CA certificate PEM the firmware pins), with "cert" and ' +
      '"key" after --cert')
    .option(...configOption)
    .action(async (
      opts: Opts & { name: string, type: string, uuid?: string, capabilities?: string, cert?: boolean }
    ) => {
      const config = configFor(io, opts.config)
      setCode(await withRepos(io, opts, async repos => {
        const capabilities =
          opts.capabilities === undefined
            ? null
            : opts.capabilities
              .split(',')
              .map(s => s.trim())
              .filter(Boolean)
        const {
          device: { uuid },
          secret
        } = await provisionDevice(
          repos.devices,
          { uuid: opts.uuid, name: opts.name, type: opts.type, capabilities },
          Date.now
        )
        const ca = await clientCaPem(config, Date.now())
        const client = opts.cert === true ? await issueCertificate(config, repos, uuid) : undefined
        if (opts.json === true) {
          io.out(
            JSON.stringify({
              uuid,
              secret,
              ca,
              ...(client === undefined ? {} : { cert: client.cert, key: client.key })
            })
          )
          return
        }
        io.out(
          `uuid:   ${uuid}\nsecret: ${secret}\n(the secret is shown only now: MQTT username and client id = uuid, ` +
            'password = secret)'
        )
        if (client !== undefined) {
          io.out(
            `\nclient certificate (mutual TLS; client id = uuid, no password):\n${client.cert}\nits key (shown only ` +
              `now):\n${client.key}`
          )
        }
        io.out(`\nCA certificate to pin (autocore-gateway tls export-ca prints it again):\n${ca}`)
      }))
    })

  dbAction(setup, device.command('list').description('list devices'), 'print a JSON array', async (repos, _, opts) => {
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
  })

  const toggle = (
    name: string,
    description: string,
    change: (uuid: string, repos: Repositories) => Promise<void>
  ): void => {
    const command = device.command(`${name} <uuid>`).description(description)
    dbAction(setup, command, 'print the result as JSON', async (repos, _, opts, uuid: string) => {
      await change(uuid, repos)
      io.out(
        opts.json === true
          ? JSON.stringify({ uuid, [name === 'approve' ? 'approved' : 'enabled']: name !== 'disable' })
          : `${name}d ${uuid}`
      )
    })
  }
  const setEnabled = (enabled: boolean) => async (uuid: string, repos: Repositories): Promise<void> => {
    if (!await repos.devices.update(uuid, { enabled }, Date.now())) throw notFound('device', uuid)
  }
  toggle('disable', 'refuse the device from its next CONNECT (CONNACK 5)', setEnabled(false))
  toggle('enable', 'accept the device again', setEnabled(true))
  toggle(
    'approve',
    'approve a pending (auto-registered) device: full device rights from its next CONNECT',
    async (uuid, repos) => {
      await approveDevice(repos.devices, uuid, Date.now)
    }
  )

  dbAction(
    setup,
    device.command('rotate-secret <uuid>')
      .description('issue a new secret (the old one stops working at once); prints it once'),
    'print {"uuid","secret"}',
    async (repos, _, opts, uuid: string) => {
      const secret = await rotateDeviceSecret(repos.devices, uuid, Date.now)
      io.out(opts.json === true ? JSON.stringify({ uuid, secret }) : `uuid:   ${uuid}\nsecret: ${secret}`)
    }
  )

  dbAction(
    setup,
    device.command('cert <uuid>')
      .description('issue the device a new client certificate (mutual TLS); the one before it is refused from now on'),
    'print {"uuid","cert","key","ca"}',
    async (repos, config, opts, uuid: string) => {
      const { cert, key } = await issueCertificate(config, repos, uuid)
      const ca = await clientCaPem(config, Date.now())
      if (opts.json === true) return io.out(JSON.stringify({ uuid, cert, key, ca }))
      io.out(`client certificate of ${uuid} (the previous one is refused from now on):\n${cert}`)
      io.out(`its key (shown only now):\n${key}\nCA certificate to pin:\n${ca}`)
    }
  )

  dbAction(
    setup,
    device.command('revoke-cert <uuid>')
      .description('refuse the device\'s client certificate (its secret still works); live sessions it opened end'),
    'print {"uuid","revoked":true}',
    async (repos, _, opts, uuid: string) => {
      if (!await repos.devices.update(uuid, { certSerial: null }, Date.now())) throw notFound('device', uuid)
      io.out(opts.json === true ? JSON.stringify({ uuid, revoked: true }) : `revoked the client certificate of ${uuid}`)
    }
  )
}

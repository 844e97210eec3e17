import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t, { type Test } from 'tap'
import { runCli } from '../../src/cli/index.js'
import { createCa, createClientCert } from '../../src/tls/certificates.js'
import { startApp, type RunningApp } from '../helpers/app.js'
import { subackCodes } from '../helpers/mqtt.js'

// #17: a device's client certificate (device add --cert) authenticates it over mqtts:// without a password, through
// the same CONNECT decision as a password; a disabled device's certificate, a certificate under another client id
// and one from another CA are refused.

async function cli (app: RunningApp, args: string[]): Promise<{ code: number, lines: string[], errors: string[] }> {
  const lines: string[] = []
  const errors: string[] = []
  const code = await runCli(
    ['node', 'autocore-gateway', ...args],
    { env: { AUTOCORE_DATA_DIR: app.config.dataDir }, out: l => lines.push(l), err: l => errors.push(l) },
    { once: () => {} }
  )
  return { code, lines, errors }
}

interface Added { uuid: string, secret: string, ca: string, cert?: string, key?: string }

/** Resolves 0 once connected (the client is ended at teardown), or the CONNACK return code / error code. */
async function connectCode (t: Test, url: string, opts: mqtt.IClientOptions): Promise<number | string> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4, ...opts })
  t.teardown(() => { client.end(true) })
  return await new Promise(resolve => {
    client.once('connect', () => resolve(0))
    client.once('error', (err: Error & { code?: number | string }) => resolve(err.code ?? err.message))
  })
}

t.test('device add --cert: the certificate authenticates the device without a password; disabled refused', async t => {
  const app = await startApp(t, { config: { tls: { mqtt: { enabled: true, port: 0, host: '127.0.0.1' } } } })
  const url = `mqtts://127.0.0.1:${app.gateway.tlsPorts.mqtt ?? 0}`
  const added = await cli(app, ['device', 'add', '--name', 'Rear relays', '--type', 'relay_board', '--cert', '--json'])
  t.equal(added.code, 0, added.errors.join('\n'))
  const dev = JSON.parse(added.lines[0]) as Added
  t.equal(
    dev.ca,
    readFileSync(join(app.config.dataDir, 'tls', 'ca.crt'), 'utf8'),
    '--json returns the gateway CA the firmware pins'
  )
  t.match(dev.cert, /^-----BEGIN CERTIFICATE-----/)
  t.match(dev.key, /^-----BEGIN PRIVATE KEY-----/)
  const tlsOpts = { ca: dev.ca, cert: dev.cert, key: dev.key }

  t.equal(
    await connectCode(t, url, { ...tlsOpts, clientId: dev.uuid }),
    0,
    'no username, no password: the certificate is enough'
  )
  const client = await mqtt.connectAsync(url, {
    ...tlsOpts,
    clientId: dev.uuid,
    username: dev.uuid,
    reconnectPeriod: 0
  })
  t.teardown(() => { client.end(true) })
  const got = new Promise<string>(resolve => client.on('message', (_t, p) => resolve(p.toString())))
  const granted = await client.subscribeAsync(`autocore/devices/${dev.uuid}/command`, { qos: 1 })
  t.equal(granted[0].qos, 1, 'it has its device rights (its command topic)')
  t.same(
    await subackCodes(client, `autocore/devices/${'0'.repeat(8)}-0000-0000-0000-000000000000/command`),
    [128],
    'and only its own'
  )
  await app.gateway.services.broker.publish(`autocore/devices/${dev.uuid}/command`, '{"x":1}', { qos: 1 })
  t.equal(await got, '{"x":1}')

  t.equal(
    await connectCode(t, url, { ...tlsOpts, clientId: 'someone-else' }),
    2,
    'a certificate under another client id is refused'
  )
  t.equal(
    await connectCode(t, url, { ...tlsOpts, clientId: 'admin', username: 'admin', password: 'guess' }),
    4,
    'another username goes the password way'
  )

  const other = await createCa('not the gateway', Date.now(), 30)
  const forged = await createClientCert(other, dev.uuid, Date.now(), 30)
  t.equal(
    await connectCode(t, url, { ca: dev.ca, cert: forged.cert, key: forged.key, clientId: dev.uuid }),
    5,
    'a certificate from another CA proves nothing (anonymous: refused)'
  )
  t.equal(await connectCode(t, app.mqttUrl, { clientId: dev.uuid }), 5, 'plain TCP has no certificate')

  t.equal((await cli(app, ['device', 'disable', dev.uuid])).code, 0)
  t.equal(
    await connectCode(t, url, { ...tlsOpts, clientId: dev.uuid }),
    5,
    'a disabled device\'s certificate is refused (CONNACK 5)'
  )
  t.equal((await cli(app, ['device', 'enable', dev.uuid])).code, 0)
  t.equal(await connectCode(t, url, { ...tlsOpts, clientId: dev.uuid }), 0, 'enabled again: accepted')
})

t.test('device add --json without --cert returns the CA too; the secret works over mqtts://', async t => {
  const app = await startApp(t, { config: { tls: { mqtt: { enabled: true, port: 0, host: '127.0.0.1' } } } })
  const dev = JSON.parse(
    (await cli(app, ['device', 'add', '--name', 'Dash', '--type', 'display', '--json'])).lines[0]
  ) as Added
  t.equal(dev.cert, undefined)
  t.equal(
    await connectCode(t, `mqtts://127.0.0.1:${app.gateway.tlsPorts.mqtt ?? 0}`, {
      ca: dev.ca,
      clientId: dev.uuid,
      username: dev.uuid,
      password: dev.secret
    }),
    0
  )
})

t.test('device cert replaces the certificate and revoke-cert refuses it: new CONNECTs and live sessions', async t => {
  // The CLI writes from outside the gateway, as an operator would: live sessions end at the next recheck.
  const tls = { mqtt: { enabled: true, port: 0, host: '127.0.0.1' } }
  const app = await startApp(t, { config: { tls, auth: { sessionRecheckMs: 1000 } } })
  const url = `mqtts://127.0.0.1:${app.gateway.tlsPorts.mqtt ?? 0}`
  const added = await cli(app, ['device', 'add', '--name', 'Rear relays', '--type', 'relay_board', '--cert', '--json'])
  const dev = JSON.parse(added.lines[0]) as Added
  const first = { ca: dev.ca, cert: dev.cert, key: dev.key, clientId: dev.uuid }
  const live = await mqtt.connectAsync(url, { ...first, reconnectPeriod: 0 })
  t.teardown(() => { live.end(true) })
  const liveClosed = new Promise<void>(resolve => live.once('close', () => resolve()))

  const reissued = await cli(app, ['device', 'cert', dev.uuid, '--json'])
  t.equal(reissued.code, 0, reissued.errors.join('\n'))
  const next = JSON.parse(reissued.lines[0]) as Required<Added>
  t.not(next.cert, dev.cert, 'a new certificate')
  t.equal(next.ca, dev.ca, 'from the same CA')
  await liveClosed
  t.pass('the session the replaced certificate opened was closed')
  t.equal(await connectCode(t, url, first), 4, 'the replaced certificate is refused, though the CA signed it')
  const second = { ca: next.ca, cert: next.cert, key: next.key, clientId: dev.uuid }
  t.equal(await connectCode(t, url, second), 0, 'the new one is accepted')

  const revoked = await cli(app, ['device', 'revoke-cert', dev.uuid])
  t.equal(revoked.code, 0, revoked.errors.join('\n'))
  t.match(revoked.lines.join('\n'), 'revoked the client certificate')
  t.equal(await connectCode(t, url, second), 4, 'a revoked certificate is refused')
  t.equal(await connectCode(t, url, { ca: dev.ca, clientId: dev.uuid, username: dev.uuid, password: dev.secret }), 0,
    'its secret still works')
  const unknown = await cli(app, ['device', 'cert', 'no-such-device'])
  t.equal(unknown.code, 1, 'no certificate for an unknown device')
  t.match(unknown.errors.join('\n'), 'GW_ERR_DEVICE_NOT_FOUND')
})

import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t, { type Test } from 'tap'
import { startApp, type RunningApp } from '../helpers/app.js'
import { provisionDevice } from '../helpers/devices.js'
import { connectPacket } from '../helpers/raw-mqtt.js'
import { scrape } from '../helpers/prometheus.js'
import { runCli } from '../../src/cli/index.js'
import { createCa, createServerCert } from '../../src/tls/certificates.js'
import type { DeepPartial } from '../../src/config/loader.js'
import type { Config } from '../../src/config/types.js'

// #17: MQTT over TLS and HTTPS/WSS beside the plain listeners, with the gateway CA made on first start.

const DAY_MS = 86_400_000
const tlsOn = {
  mqtt: { enabled: true, port: 0, host: '127.0.0.1' },
  https: { enabled: true, port: 0, host: '127.0.0.1' }
}

async function tlsApp (
  t: Test,
  config: DeepPartial<Config> = {},
  dataDir?: string
): Promise<RunningApp & { mqttsUrl: string, httpsUrl: string }> {
  const app = await startApp(t, { dataDir, config: { ...config, tls: { ...tlsOn, ...config.tls } } })
  return { ...app, mqttsUrl: `mqtts://127.0.0.1:${app.gateway.tlsPorts.mqtt ?? 0}`, httpsUrl: `https://127.0.0.1:${app.gateway.tlsPorts.https ?? 0}` }
}

async function cli (args: string[]): Promise<{ code: number, out: string, err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(
    ['node', 'autocore-gateway', ...args],
    { env: {}, out: l => out.push(l), err: l => err.push(l) },
    { once: () => {} }
  )
  return { code, out: out.join('\n'), err: err.join('\n') }
}

/** The config file `tls export-ca` reads: the same dataDir and gatewayId as the running app. */
function configFile (app: RunningApp, extra: DeepPartial<Config> = {}): string {
  const file = join(app.config.dataDir, 'cli-config.json')
  writeFileSync(file, JSON.stringify({ dataDir: app.config.dataDir, gatewayId: app.config.gatewayId, ...extra }))
  return file
}

/** Connects with mqtt.js and resolves with the client, or rejects with the connection's error. */
async function mqttsConnect (t: Test, url: string, opts: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts })
  t.teardown(() => { client.end(true) })
  return client
}

async function refusal (url: string, opts: mqtt.IClientOptions): Promise<string> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts })
  return await new Promise(resolve => {
    client.once('error', (err: Error & { code?: string }) => { client.end(true); resolve(err.code ?? err.message) })
    client.once('connect', () => { client.end(true); resolve('connected') })
  })
}

async function httpsGet (url: string, ca: string): Promise<{ status: number, body: string, protocol: string }> {
  return await new Promise((resolve, reject) => {
    https.get(url, { ca, agent: false }, res => {
      const protocol = (res.socket as tls.TLSSocket).getProtocol() ?? ''
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }))
    }).on('error', reject)
  })
}

t.test('first start makes the CA (key 0600) and a server certificate; mqtts:// verifies against the exported ' +
  'CA', async t => {
  const app = await tlsApp(t)
  const dir = join(app.config.dataDir, 'tls')
  t.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600, 'CA key is 0600')
  t.equal(statSync(join(dir, 'server.key')).mode & 0o777, 0o600, 'server key is 0600')
  t.equal(statSync(dir).mode & 0o777, 0o700, 'tls dir is 0700')
  const exported = await cli(['tls', 'export-ca', '--config', configFile(app)])
  t.equal(exported.code, 0, exported.err)
  t.match(exported.out, /^-----BEGIN CERTIFICATE-----/)
  const ca = exported.out + '\n'
  const cert = new (await import('node:crypto')).X509Certificate(ca)
  t.ok(cert.ca, 'the exported certificate is a CA')
  t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'ECDSA P-256')

  const { uuid, secret } = await provisionDevice(app)
  const client = await mqttsConnect(t, app.mqttsUrl, { ca, clientId: uuid, username: uuid, password: secret })
  const socket = client.stream as tls.TLSSocket
  t.equal(socket.getProtocol(), 'TLSv1.3')
  t.ok(socket.authorized, 'the client verified the server certificate')
  const got = new Promise<string>(resolve => client.on('message', (_t, p) => resolve(p.toString())))
  await client.subscribeAsync(`autocore/devices/${uuid}/command`, { qos: 1 })
  await app.gateway.services.broker.publish(`autocore/devices/${uuid}/command`, '{"x":1}', { qos: 1 })
  t.equal(await got, '{"x":1}', 'a message reaches the device over TLS')

  const health = await httpsGet(`${app.httpsUrl}/health`, ca)
  t.equal(health.status, 200)
  t.equal(health.protocol, 'TLSv1.3')
  // The same device over WSS on the HTTPS port (it takes the session over from the mqtts:// connection).
  const anon = mqtt.connect(`wss://127.0.0.1:${app.gateway.tlsPorts.https ?? 0}${app.config.mqtt.wsPath}`, {
    ca,
    clientId: uuid,
    username: uuid,
    password: secret,
    reconnectPeriod: 0
  })
  t.teardown(() => { anon.end(true) })
  await new Promise<void>((resolve, reject) => { anon.once('connect', () => resolve()); anon.once('error', reject) })
  t.pass('a device connects over wss:// verifying the CA')
})

t.test('a client pinning another CA refuses the gateway', async t => {
  const app = await tlsApp(t)
  const other = await createCa('someone else', Date.now(), 30)
  const { uuid, secret } = await provisionDevice(app)
  t.equal(
    await refusal(app.mqttsUrl, { ca: other.cert, clientId: uuid, username: uuid, password: secret }),
    'SELF_SIGNED_CERT_IN_CHAIN',
    'the chain ends in a CA the client does not trust'
  )
  t.equal(
    await refusal(app.mqttsUrl, { clientId: uuid, username: uuid, password: secret }),
    'SELF_SIGNED_CERT_IN_CHAIN',
    'nor does a client with the system CAs only'
  )
})

t.test('an expired server certificate is refused by the client', async t => {
  const root = t.testdir()
  const dir = join(root, 'operator')
  mkdirSync(dir)
  const ca = await createCa('operator CA', Date.now() - 800 * DAY_MS, 3650)
  const expired = await createServerCert(ca, ['127.0.0.1', 'localhost'], Date.now() - 400 * DAY_MS, 30)
  writeFileSync(join(dir, 'expired.crt'), expired.cert)
  writeFileSync(join(dir, 'expired.key'), expired.key)
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  const app = await tlsApp(
    t,
    { tls: { certFile: join(dir, 'expired.crt'), keyFile: join(dir, 'expired.key'), caFile: join(dir, 'ca.crt') } },
    join(root, 'data')
  )
  t.ok(
    app.logs.some(l => l.msg === 'tls server certificate has expired: clients will refuse it'),
    'the gateway says so at start'
  )
  const exported = await cli([
    'tls',
    'export-ca',
    '--config',
    configFile(app, { tls: { caFile: join(dir, 'ca.crt') } })
  ])
  t.equal(exported.out + '\n', ca.cert, 'export-ca prints the operator CA (tls.caFile)')
  const { uuid, secret } = await provisionDevice(app)
  t.equal(
    await refusal(app.mqttsUrl, { ca: ca.cert, clientId: uuid, username: uuid, password: secret }),
    'CERT_HAS_EXPIRED'
  )
})

t.test('packet limits hold on the TLS listener', async t => {
  const app = await tlsApp(t, {
    mqtt: { allowAnonymous: true, maxConnectBytes: 1024, maxPacketBytes: 4096, connectTimeoutMs: 60_000 }
  })
  const ca = (await cli(['tls', 'export-ca', '--config', configFile(app)])).out
  const socket = tls.connect({ host: '127.0.0.1', port: app.gateway.tlsPorts.mqtt ?? 0, ca, servername: 'localhost' })
  t.teardown(() => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve())
    socket.once('error', reject)
  })
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  // A CONNECT announcing 256 MB: cut on its fixed header, before a byte of it is buffered.
  socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
  await closed
  const m = await scrape(app.httpUrl)
  t.equal(m.value('autocore_mqtt_packets_too_large_total', { transport: 'tls', stage: 'connect' }), 1)

  const ok = tls.connect({ host: '127.0.0.1', port: app.gateway.tlsPorts.mqtt ?? 0, ca, servername: 'localhost' })
  t.teardown(() => ok.destroy())
  await new Promise<void>(resolve => ok.once('secureConnect', () => resolve()))
  const connack = new Promise<Buffer>(resolve => ok.once('data', resolve))
  ok.write(connectPacket({ clientId: 'big-one', clean: true }))
  t.same([...(await connack)], [0x20, 2, 0, 0], 'a normal CONNECT is accepted')
  const bigClosed = new Promise<void>(resolve => ok.once('close', () => resolve()))
  ok.on('error', () => {})
  ok.write(Buffer.from([0x30, 0x81, 0x80, 0x01])) // PUBLISH announcing 16 KiB > 4 KiB
  await bigClosed
  const after = await scrape(app.httpUrl)
  // Its stage may read 'connect' when the header is read before Aedes marks the client connected (after CONNACK).
  t.equal(
    after.value('autocore_mqtt_packets_too_large_total', { transport: 'tls' }),
    2,
    'an authenticated client announcing a too large packet is cut too'
  )
})

t.test('a hostile client on the TLS port: plaintext MQTT, garbage, an aborted handshake; the gateway keeps ' +
  'serving', async t => {
  const app = await tlsApp(t)
  const ca = (await cli(['tls', 'export-ca', '--config', configFile(app)])).out
  const port = app.gateway.tlsPorts.mqtt ?? 0
  for (const bytes of [
    connectPacket({ clientId: 'plain', clean: true }),
    Buffer.alloc(4096, 0x16),
    Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff])
  ]) {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.on('error', () => {})
    await new Promise<void>(resolve => socket.once('connect', () => resolve()))
    const closed = new Promise<Buffer>(resolve => {
      const got: Buffer[] = []
      socket.on('data', (c: Buffer) => got.push(c))
      socket.once('close', () => resolve(Buffer.concat(got)))
    })
    socket.write(bytes)
    socket.end()
    const answer = await closed
    t.notOk(answer.includes(Buffer.from([0x20, 0x02])), 'no MQTT answer without TLS')
  }
  const { uuid, secret } = await provisionDevice(app)
  const client = await mqttsConnect(t, app.mqttsUrl, { ca, clientId: uuid, username: uuid, password: secret })
  t.ok(client.connected, 'a good client still connects')
})

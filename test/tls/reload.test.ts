import { X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import mqtt from 'mqtt'
import t, { type Test } from 'tap'
import { createCa, createServerCert } from '../../src/tls/certificates.js'
import { startApp } from '../helpers/app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { waitFor } from '../helpers/mqtt.js'
import { gatewayEnv, runGateway } from '../helpers/process.js'

// #17: SIGHUP re-reads the operator's certificate, the generated one is renewed before it expires; either way new
// handshakes get the new certificate while connections already up stay up.

const DAY_MS = 86_400_000

/** The certificate a fresh handshake is served, as its SHA-256 fingerprint. */
async function servedFingerprint (port: number, ca: string, verify = true): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', rejectUnauthorized: verify })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve())
      socket.once('error', reject)
    })
    return socket.getPeerCertificate().fingerprint256
  } finally {
    socket.destroy()
  }
}

function fingerprintOf (pem: string): string {
  return new X509Certificate(pem).fingerprint256
}

/** A health-identity MQTT client over TLS, and a round trip on its private topic. */
async function healthClient (
  t: Test,
  url: string,
  ca: string,
  token: string
): Promise<{ client: mqtt.MqttClient, roundTrip: () => Promise<void> }> {
  const clientId = `autocore-health-${Math.random().toString(16).slice(2, 8)}`
  const client = await mqtt.connectAsync(url, {
    ca,
    clientId,
    username: 'autocore-health',
    password: token,
    reconnectPeriod: 0
  })
  t.teardown(() => { client.end(true) })
  const topic = `autocore/health/${clientId}`
  await client.subscribeAsync(topic, { qos: 1 })
  const roundTrip = async (): Promise<void> => {
    const nonce = Math.random().toString(16)
    const back = new Promise<void>(resolve =>
      client.on('message', (_t, p) => {
        if (p.toString() === nonce) resolve()
      })
    )
    await client.publishAsync(topic, nonce, { qos: 1 })
    await back
  }
  await roundTrip()
  return { client, roundTrip }
}

t.test('SIGHUP reloads a replaced operator certificate; an existing connection stays up; a bad one is ' +
  'refused', async t => {
  const dir = t.testdir()
  const ca = await createCa('operator CA', Date.now(), 365)
  const first = await createServerCert(ca, ['localhost', '127.0.0.1'], Date.now(), 90)
  const certFile = join(dir, 'server.crt')
  const keyFile = join(dir, 'server.key')
  writeFileSync(certFile, first.cert)
  writeFileSync(keyFile, first.key)
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  const gw = runGateway(t, ['start'], gatewayEnv(join(dir, 'data'), {
    AUTOCORE_TLS_MQTT_ENABLED: 'true',
    AUTOCORE_TLS_MQTT_PORT: '0',
    AUTOCORE_TLS_MQTT_HOST: '127.0.0.1',
    AUTOCORE_TLS_HTTPS_ENABLED: 'true',
    AUTOCORE_TLS_HTTPS_PORT: '0',
    AUTOCORE_TLS_HTTPS_HOST: '127.0.0.1',
    AUTOCORE_TLS_CERT_FILE: certFile,
    AUTOCORE_TLS_KEY_FILE: keyFile,
    AUTOCORE_TLS_CA_FILE: join(dir, 'ca.crt')
  }))
  const started = await gw.waitForLog('gateway started', 30_000)
  const mqttsPort = started.mqttsPort as number
  const httpsPort = started.httpsPort as number
  t.equal(await servedFingerprint(mqttsPort, ca.cert), fingerprintOf(first.cert))
  const token = readFileSync(join(dir, 'data', 'health-token'), 'utf8').trim()
  const held = await healthClient(t, `mqtts://127.0.0.1:${mqttsPort}`, ca.cert, token)
  const wss = await healthClient(t, `wss://127.0.0.1:${httpsPort}/mqtt`, ca.cert, token)

  const second = await createServerCert(ca, ['localhost', '127.0.0.1'], Date.now(), 90)
  writeFileSync(certFile, second.cert)
  writeFileSync(keyFile, second.key)
  gw.child.kill('SIGHUP')
  await gw.waitForLog('tls certificate reloaded', 20_000)
  t.equal(
    await servedFingerprint(mqttsPort, ca.cert),
    fingerprintOf(second.cert),
    'mqtts: new handshakes get the new certificate'
  )
  t.equal(await servedFingerprint(httpsPort, ca.cert), fingerprintOf(second.cert), 'https: likewise')
  await held.roundTrip()
  t.ok(held.client.connected, 'the mqtts:// connection made before the reload is still up and working')
  await wss.roundTrip()
  t.ok(wss.client.connected, 'so is the wss:// one')

  writeFileSync(keyFile, 'not a key')
  gw.child.kill('SIGHUP')
  await gw.waitForLog('tls reload failed: the previous certificate stays in use', 20_000)
  t.equal(
    await servedFingerprint(mqttsPort, ca.cert),
    fingerprintOf(second.cert),
    'a key that does not load leaves the previous certificate in use'
  )
  await held.roundTrip()
  t.equal(gw.child.exitCode, null, 'the gateway still runs')
})

t.test('the generated server certificate is renewed before it expires, without dropping connections', async t => {
  const clock = new FakeClock(Date.now())
  const app = await startApp(t, {
    clock,
    config: {
      tls: {
        mqtt: { enabled: true, port: 0, host: '127.0.0.1' },
        serverCertDays: 40,
        renewBeforeDays: 30,
        renewCheckIntervalMs: 11 * DAY_MS
      }
    }
  })
  const port = app.gateway.tlsPorts.mqtt ?? 0
  const ca = readFileSync(join(app.config.dataDir, 'tls', 'ca.crt'), 'utf8')
  const before = await servedFingerprint(port, ca)
  const token = readFileSync(join(app.config.dataDir, 'health-token'), 'utf8').trim()
  const held = await healthClient(t, `mqtts://127.0.0.1:${port}`, ca, token)

  clock.advance(11 * DAY_MS)
  await waitFor(() => app.logs.some(l => l.msg === 'tls certificate reloaded' && l.reason === 'renewal check'), 20_000)
  // The renewed certificate starts at the test clock's time, 11 days ahead of the real one the TLS client checks
  // against: read it unverified, then check it is the one on disk, issued by the gateway CA.
  const after = await servedFingerprint(port, ca, false)
  t.not(after, before, 'new handshakes get the renewed certificate')
  t.ok(
    new X509Certificate(readFileSync(join(app.config.dataDir, 'tls', 'server.crt'))).checkIssued(
      new X509Certificate(ca)
    ),
    'issued by the gateway CA'
  )
  t.equal(
    after,
    fingerprintOf(readFileSync(join(app.config.dataDir, 'tls', 'server.crt'), 'utf8')),
    'which is the one now on disk'
  )
  t.ok(app.logs.some(l => l.msg === 'tls server certificate made' && l.reason === 'expires soon'))
  await held.roundTrip()
  t.ok(held.client.connected, 'the connection made before the renewal is still up')
})

t.test('a change of tls.hostnames renews the certificate at the next start', async t => {
  const dataDir = t.testdir()
  const tlsOn = { mqtt: { enabled: true, port: 0, host: '127.0.0.1' } }
  const one = await startApp(t, { dataDir, config: { tls: tlsOn } })
  const certFile = join(dataDir, 'tls', 'server.crt')
  const X509 = X509Certificate
  t.notMatch(new X509(readFileSync(certFile)).subjectAltName, /gateway\.local/)
  await one.stop()
  const two = await startApp(t, { dataDir, config: { tls: { ...tlsOn, hostnames: ['gateway.local', '192.168.4.1'] } } })
  t.match(new X509(readFileSync(certFile)).subjectAltName, /DNS:gateway\.local.*IP Address:192\.168\.4\.1/)
  t.ok(two.logs.some(l => l.msg === 'tls server certificate made' && l.reason === 'host names changed'))
  await two.stop()
  const three = await startApp(t, {
    dataDir,
    config: { tls: { ...tlsOn, hostnames: ['gateway.local', '192.168.4.1'] } }
  })
  t.notOk(three.logs.some(l => l.msg === 'tls server certificate made'), 'unchanged: kept')
})

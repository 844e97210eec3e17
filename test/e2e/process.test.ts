import net from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { connect, nextMessage } from '../helpers/mqtt.js'
import { gatewayEnv, mainJs, runGateway } from '../helpers/process.js'

t.test('the real process: health both ways, SIGTERM exits 0 and subscribers see the status turn offline', async t => {
  const dataDir = t.testdir()
  const gw = runGateway(t, ['start'], gatewayEnv(dataDir))
  const started = await gw.waitForLog('gateway started')
  const env = {
    ...process.env,
    ...gatewayEnv(dataDir),
    AUTOCORE_MQTT_PORT: String(started.mqttPort),
    AUTOCORE_HTTP_PORT: String(started.httpPort)
  }

  const up = spawnSync(process.execPath, [mainJs, 'health'], { env, encoding: 'utf8' })
  t.equal(up.status, 0, up.stdout + up.stderr)
  t.match(up.stdout, /^ok: http \d+ms, mqtt round-trip \d+ms, db ok\n$/)

  // The health identity may read the gateway status; its token was generated into the data dir.
  const healthToken = readFileSync(join(dataDir, 'health-token'), 'utf8').trim()
  const sub = await connect(t, `ws://127.0.0.1:${started.httpPort}/mqtt`, {
    username: 'autocore-health',
    password: healthToken
  })
  await sub.subscribeAsync('autocore/gateway/+/status', { qos: 1 })
  t.equal(JSON.parse((await nextMessage(sub, () => true)).payload.toString()).status, 'online')

  const t0 = Date.now()
  gw.child.kill('SIGTERM')
  const offline = await nextMessage(sub, () => true)
  t.equal(
    JSON.parse(offline.payload.toString()).status,
    'offline',
    'the subscriber saw the retained status turn offline'
  )
  t.equal(offline.packet.retain, false, 'delivered live (the retained copy is what later subscribers get)')
  const exit = await gw.exited
  t.same(exit, { code: 0, signal: null })
  t.ok(Date.now() - t0 < 5000, 'within shutdown.timeoutMs')
  t.ok(gw.stdout.some(l => l.includes('"gateway stopped"')))

  const down = spawnSync(process.execPath, [mainJs, 'health', '--timeout', '2000'], { env, encoding: 'utf8' })
  t.equal(down.status, 1)
  t.match(down.stdout, /^failed: http: ECONNREFUSED; mqtt: /)
})

t.test('an invalid config exits 2 naming every bad key', async t => {
  const dir = t.testdir({ 'bad.json': JSON.stringify({ mqtt: { port: 70000 }, http: { host: 5 } }) })
  const gw = runGateway(t, ['start', '--config', `${dir}/bad.json`], {
    AUTOCORE_DATA_DIR: dir,
    AUTOCORE_LOG_LEVEL: 'chatty'
  })
  t.same(await gw.exited, { code: 2, signal: null })
  const err = gw.stderr.join('\n')
  t.match(err, /mqtt\.port: must be <= 65535/)
  t.match(err, /http\.host: must be string/)
  t.match(err, /log\.level: must be one of/)
})

t.test('a port in use is one clear line and a non-zero exit', async t => {
  const blocker = net.createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as net.AddressInfo).port
  const gw = runGateway(t, ['start'], gatewayEnv(t.testdir(), { AUTOCORE_MQTT_PORT: String(port) }))
  t.same(await gw.exited, { code: 1, signal: null })
  t.same(gw.stderr, [`cannot start: mqtt port ${port} on 127.0.0.1 is already in use (GW_ERR_LISTEN_FAILED)`])
})

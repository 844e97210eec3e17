import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { startApp } from '../helpers/app.js'

function io (env: Record<string, string> = {}): {
  env: Record<string, string>
  out: (l: string) => void
  err: (l: string) => void
  lines: string[]
  errors: string[]
} {
  const lines: string[] = []
  const errors: string[] = []
  return { env, out: l => lines.push(l), err: l => errors.push(l), lines, errors }
}
const noSignals = { once: () => {} }

t.test('health exits 0 with one line against a running gateway', async t => {
  const app = await startApp(t)
  const cli = io({
    AUTOCORE_DATA_DIR: app.config.dataDir,
    AUTOCORE_HTTP_PORT: String(app.gateway.httpPort),
    AUTOCORE_MQTT_PORT: String(app.gateway.mqttPort)
  })
  const code = await runCli(['node', 'autocore-gateway', 'health'], cli, noSignals)
  t.equal(code, 0, cli.lines.join('\n'))
  t.match(cli.lines[0], /^ok: http \d+ms, mqtt round-trip \d+ms, db ok$/)
})

t.test('health --json gives the details; --url/--mqtt-url point elsewhere', async t => {
  const app = await startApp(t)
  const cli = io({ AUTOCORE_DATA_DIR: app.config.dataDir })
  const code = await runCli(
    ['node', 'autocore-gateway', 'health', '--json', '--url', app.httpUrl, '--mqtt-url', app.wsUrl],
    cli,
    noSignals
  )
  t.equal(code, 0)
  t.match(JSON.parse(cli.lines.join('\n')), {
    ok: true,
    http: { ok: true, report: { status: 'ok' } },
    mqtt: { ok: true },
    db: { ok: true }
  })
})

t.test('health exits 1 naming what failed when the gateway is stopped', async t => {
  const app = await startApp(t)
  const env = {
    AUTOCORE_DATA_DIR: app.config.dataDir,
    AUTOCORE_HTTP_PORT: String(app.gateway.httpPort),
    AUTOCORE_MQTT_PORT: String(app.gateway.mqttPort)
  }
  await app.stop()
  const cli = io(env)
  const code = await runCli(['node', 'autocore-gateway', 'health', '--timeout', '2000'], cli, noSignals)
  t.equal(code, 1)
  t.match(cli.lines[0], /^failed: http: ECONNREFUSED; mqtt: .*ECONNREFUSED.*; db: unknown \(http failed\)$/)
})

t.test('health with a wrong token fails on mqtt only', async t => {
  const app = await startApp(t)
  const cli = io({ AUTOCORE_DATA_DIR: app.config.dataDir, AUTOCORE_HEALTH_TOKEN: 'wrong' })
  const code = await runCli(
    ['node', 'autocore-gateway', 'health', '--url', app.httpUrl, '--mqtt-url', app.mqttUrl],
    cli,
    noSignals
  )
  t.equal(code, 1)
  t.match(cli.lines[0], /^failed: mqtt: .*(Bad username or password|Not authorized)/)
})

t.test('config check prints the effective config redacted; a bad config exits 2 naming each key', async t => {
  const ok = io({ AUTOCORE_HEALTH_TOKEN: 'hush' })
  t.equal(await runCli(['node', 'autocore-gateway', 'config', 'check'], ok, noSignals), 0)
  const printed = JSON.parse(ok.lines.join('\n'))
  t.equal(printed.health.token, '[redacted]')
  t.equal(printed.mqtt.port, 1883)

  const bad = io({ AUTOCORE_MQTT_PORT: '99999', AUTOCORE_LOG_LEVEL: 'loud' })
  t.equal(await runCli(['node', 'autocore-gateway', 'config', 'check'], bad, noSignals), 2)
  t.match(bad.errors.join('\n'), /mqtt\.port: must be <= 65535/)
  t.match(bad.errors.join('\n'), /log\.level: must be one of/)
})

t.test('an unknown command exits 2', async t => {
  const cli = io()
  t.equal(await runCli(['node', 'autocore-gateway', 'fly'], cli, noSignals), 2)
  t.match(cli.errors.join('\n'), /unknown command 'fly'/)
})

t.test('migrate brings an empty database up to date and says so', async t => {
  const dir = t.testdir()
  const cli = io({ AUTOCORE_DATA_DIR: dir, AUTOCORE_LOG_LEVEL: 'silent' })
  t.equal(await runCli(['node', 'autocore-gateway', 'migrate'], cli, noSignals), 0)
  t.match(cli.lines[0], /^schema up to date \(\d+ migrations\)$/)
})

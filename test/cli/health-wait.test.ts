import net from 'node:net'
import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { startApp } from '../helpers/app.js'

async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}

t.test('health --wait keeps checking until a gateway that is still starting answers', async t => {
  const dataDir = t.testdir()
  const [mqttPort, httpPort] = [await freePort(), await freePort()]
  const lines: string[] = []
  const io = {
    env: {
      AUTOCORE_DATA_DIR: dataDir,
      AUTOCORE_MQTT_PORT: String(mqttPort),
      AUTOCORE_HTTP_PORT: String(httpPort),
      AUTOCORE_HEALTH_TOKEN: 'tok'
    },
    out: (l: string) => lines.push(l),
    err: () => {}
  }
  const checking = runCli(['node', 'autocore-gateway', 'health', '--wait', '20000', '--timeout', '1000'], io, {
    once: () => {}
  })
  await new Promise(resolve => setTimeout(resolve, 400))
  t.same(lines, [], 'still waiting: nothing listens yet')
  await startApp(t, {
    dataDir,
    config: { mqtt: { port: mqttPort }, http: { port: httpPort }, health: { token: 'tok' } }
  })
  t.equal(await checking, 0)
  t.match(lines[0], /^ok: http \d+ms/)
})

t.test('health --wait gives up after its time with the failure', async t => {
  const port = await freePort()
  const lines: string[] = []
  const io = {
    env: {
      AUTOCORE_DATA_DIR: t.testdir(),
      AUTOCORE_MQTT_PORT: String(port),
      AUTOCORE_HTTP_PORT: String(port),
      AUTOCORE_HEALTH_TOKEN: 'x'
    },
    out: (l: string) => lines.push(l),
    err: () => {}
  }
  const t0 = Date.now()
  t.equal(
    await runCli(['node', 'autocore-gateway', 'health', '--wait', '600', '--timeout', '500'], io, { once: () => {} }),
    1
  )
  t.ok(Date.now() - t0 >= 600, 'it kept trying for the whole wait')
  t.match(lines[0], /^failed: http: ECONNREFUSED/)
})

t.test('AUTOCORE_CONFIG_FILE names the config file when --config is not given', async t => {
  const dir = t.testdir({ 'c.json': JSON.stringify({ mqtt: { port: 1999 } }) })
  const lines: string[] = []
  const io = { env: { AUTOCORE_CONFIG_FILE: `${dir}/c.json` }, out: (l: string) => lines.push(l), err: () => {} }
  t.equal(await runCli(['node', 'autocore-gateway', 'config', 'check'], io, { once: () => {} }), 0)
  t.equal(JSON.parse(lines.join('\n')).mqtt.port, 1999)
})

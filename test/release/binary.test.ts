import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { x64Binary } from '../helpers/binary.js'
import { connect } from '../helpers/mqtt.js'
import { gatewayEnv, runGateway } from '../helpers/process.js'
import { packageRoot } from '../../src/paths.js'

// Building the executable (bundle, blob, a ~100 MB copy of node, postject) takes 20-40 s on a busy 2-core machine,
// then two processes start: more than tap's 120 s per file can be under the full suite's load.
t.setTimeout(300_000)

// Acceptance 1 of #19: the linux-x64 single executable, built once here (npm test has built dist/ already),
// copied alone into an empty directory: no node_modules, no checkout, a fresh HOME for its cache.
const built = x64Binary()

t.test('linux-x64 executable alone: version, start, health, a device it provisions, telemetry, SIGTERM', async t => {
  const dir = t.testdir({ home: {}, data: {} })
  const exe = join(dir, 'autocore-gateway-linux-x64')
  copyFileSync(built, exe)
  execFileSync('chmod', ['755', exe])
  const sum = readFileSync(built + '.sha256', 'utf8')
  t.match(sum, /^[0-9a-f]{64} {2}autocore-gateway-linux-x64\n$/)
  t.equal(sum.slice(0, 64), execFileSync('sha256sum', [exe], { encoding: 'utf8' }).slice(0, 64), '.sha256 matches')
  t.same(readdirSync(dir).sort(), ['autocore-gateway-linux-x64', 'data', 'home'], 'nothing else beside it')

  const env = { ...gatewayEnv(join(dir, 'data')), HOME: join(dir, 'home'), PATH: '/usr/bin:/bin' }
  const cli = (...args: string[]): { status: number | null, out: string } => {
    const r = spawnSync(exe, args, { cwd: dir, env, encoding: 'utf8' })
    return { status: r.status, out: r.stdout + r.stderr }
  }
  const v = cli('--version')
  t.equal(v.status, 0, v.out)
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  t.match(v.out, new RegExp(`^autocore-gateway ${pkg.version.replaceAll('.', '\\.')} \\(commit \\w+, linux-x64, `))
  t.match(v.out, `node ${process.version} embedded`)
  t.match(v.out, /better-sqlite3 12\.\d+\.\d+, classic-level \d+\.\d+\.\d+/)
  t.notMatch(v.out, /Warning/, 'no warning from the runtime')

  const device = cli('device', 'add', '--name', 'cabin sensor', '--type', 'sensor', '--json')
  t.equal(device.status, 0, device.out)
  const { uuid, secret } = JSON.parse(device.out) as { uuid: string, secret: string }

  const gw = runGateway(t, ['start'], env, [exe])
  const { mqttPort, httpPort } = await gw.waitForLog('gateway started', 60000)
  const health = cli('health', '--url', `http://127.0.0.1:${httpPort as number}`,
    '--mqtt-url', `mqtt://127.0.0.1:${mqttPort as number}`)
  t.equal(health.status, 0, health.out)
  const page = await fetch(`http://127.0.0.1:${httpPort as number}/`)
  t.equal(page.status, 200, 'the embedded panel is served')
  t.match(await page.text(), /<script[^>]+src="\/assets\//)

  const client = await connect(t, `mqtt://127.0.0.1:${mqttPort as number}`,
    { clientId: uuid, username: uuid, password: secret })
  await client.publishAsync(`autocore/devices/${uuid}/telemetry`, JSON.stringify({ temp: 21.5 }), { qos: 1 })
  client.end()

  gw.child.kill('SIGTERM')
  t.same(await gw.exited, { code: 0, signal: null }, 'SIGTERM: exit 0')
  const db = new Database(join(dir, 'data', 'autocore.db'), { readonly: true })
  t.teardown(() => db.close())
  const rows = db.prepare('SELECT t.key, t.value FROM telemetry_data t JOIN devices d ON d.id = t.device_id ' +
    'WHERE d.uuid = ?').all(uuid)
  t.same(rows, [{ key: 'temp', value: 21.5 }], 'the reading is stored')
  const cache = join(dir, 'home', '.cache', 'autocore-gateway')
  t.ok(existsSync(cache) && (statSync(cache).mode & 0o077) === 0, 'its files are extracted under ~/.cache, private')
})

t.test('a native module changed in the cache is written again from the executable before it loads', async t => {
  const dir = t.testdir({ home: {}, data: {} })
  const env = { HOME: join(dir, 'home'), AUTOCORE_DATA_DIR: join(dir, 'data'), PATH: '/usr/bin:/bin' }
  const run = (...args: string[]): { status: number | null, out: string } => {
    const r = spawnSync(built, args, { env, encoding: 'utf8' })
    return { status: r.status, out: r.stdout + r.stderr }
  }
  t.equal(run('migrate').status, 0)
  const cache = join(dir, 'home', '.cache', 'autocore-gateway')
  const native = join(cache, readdirSync(cache)[0], 'native', 'better_sqlite3.node')
  const original = readFileSync(native)
  // The file the next start finds is replaced: it is written again from the executable, never loaded as found.
  copyFileSync(join(packageRoot, 'node_modules', 'classic-level', 'prebuilds', 'linux-x64', 'classic-level.node'),
    native)
  const again = run('migrate')
  t.equal(again.status, 0, again.out)
  t.same(readFileSync(native), original, 'restored from the executable')
})

t.test('a cache directory others can write is never used: the next place is', async t => {
  const dir = t.testdir({ home: {}, data: {}, shared: { 'autocore-gateway': {} } })
  chmodSync(join(dir, 'shared', 'autocore-gateway'), 0o777)
  const env = { HOME: join(dir, 'home'), AUTOCORE_CACHE_DIR: join(dir, 'shared'), PATH: '/usr/bin:/bin' }
  const r = spawnSync(built, ['--version'], { env, encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.same(readdirSync(join(dir, 'shared', 'autocore-gateway')), [], 'nothing written where others can write')
  t.equal(readdirSync(join(dir, 'home', '.cache', 'autocore-gateway')).length, 1, 'the files went to ~/.cache')
})

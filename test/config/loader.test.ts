import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { envKeys, loadConfig, redactConfig, schemaDefaults } from '../../src/config/loader.js'
import { defaultConfigFile } from '../../src/paths.js'
import { GatewayError } from '../../src/errors.js'

function configError (fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof GatewayError) return err.message.split('\n')
    throw err
  }
  throw new Error('no error thrown')
}

t.test('config/default.json holds exactly the schema defaults', async t => {
  t.same(JSON.parse(readFileSync(defaultConfigFile, 'utf8')), schemaDefaults())
})

t.test('no config at all gives the documented defaults, frozen', async t => {
  const c = loadConfig({ env: {} })
  t.equal(c.mqtt.port, 1883)
  t.equal(c.http.port, 8080)
  t.equal(c.database.type, 'sqlite')
  t.match(c.dataDir, /\/data$/)
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.mqtt))
})

t.test('env variables are derived from the schema and override file values', async t => {
  const names = envKeys().map(k => k.env)
  for (const n of [
    'AUTOCORE_DATA_DIR',
    'AUTOCORE_MQTT_PORT',
    'AUTOCORE_MQTT_HOST',
    'AUTOCORE_HTTP_PORT',
    'AUTOCORE_HTTP_HOST',
    'AUTOCORE_MQTT_ALLOW_ANONYMOUS',
    'AUTOCORE_DATABASE_TYPE',
    'AUTOCORE_DATABASE_URL',
    'AUTOCORE_LOG_LEVEL'
  ]) {
    t.ok(names.includes(n), n)
  }
  const dir = t.testdir({ 'c.json': JSON.stringify({ mqtt: { port: 1999, host: '127.0.0.1' } }) })
  const c = loadConfig({
    file: join(dir, 'c.json'),
    env: {
      AUTOCORE_MQTT_PORT: '2883',
      AUTOCORE_MQTT_ALLOW_ANONYMOUS: 'false',
      AUTOCORE_LOG_LEVEL: 'warn',
      AUTOCORE_DATA_DIR: dir
    }
  })
  t.equal(c.mqtt.port, 2883, 'env beats the file')
  t.equal(c.mqtt.host, '127.0.0.1', 'the file beats the defaults')
  t.equal(c.mqtt.allowAnonymous, false)
  t.equal(c.log.level, 'warn')
  t.equal(c.dataDir, dir)
})

t.test('every bad key is named, one line each', async t => {
  const dir = t.testdir({
    'bad.json': JSON.stringify({
      mqtt: { port: 70000, allowAnonymous: 'sometimes' },
      http: { prot: 1 },
      database: { type: 'mysql' }
    })
  })
  const lines = configError(() => loadConfig({ file: join(dir, 'bad.json'), env: { AUTOCORE_HTTP_PORT: 'eighty' } }))
  t.ok(lines.includes('mqtt.port: must be <= 65535'), lines.join('|'))
  t.ok(lines.includes('mqtt.allowAnonymous: must be boolean'))
  t.ok(lines.includes('http.prot: unknown key'))
  t.ok(lines.includes('http.port: must be integer'))
  t.ok(lines.includes('database.type: must be one of "sqlite", "postgres"'))
})

t.test('an unreadable or non-JSON config file is a clear error', async t => {
  const dir = t.testdir({ 'broken.json': '{ "mqtt": ', 'list.json': '[1]' })
  t.match(configError(() => loadConfig({ file: join(dir, 'broken.json'), env: {} }))[0], /broken\.json: not valid JSON/)
  t.match(configError(() => loadConfig({ file: join(dir, 'list.json'), env: {} }))[0], /must hold a JSON object/)
  t.match(
    configError(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }))[0],
    /missing\.json: cannot be read \(ENOENT\)/
  )
})

t.test('redaction hides secrets and URLs but keeps empty values visible', async t => {
  const dir = t.testdir()
  writeFileSync(
    join(dir, 'c.json'),
    JSON.stringify({ health: { token: 'sekret' }, database: { url: 'postgres://u:p@h/db' } })
  )
  const shown = redactConfig(loadConfig({ file: join(dir, 'c.json'), env: {} })) as any
  t.equal(shown.health.token, '[redacted]')
  t.equal(shown.database.url, '[redacted]')
  t.equal(shown.mqtt.port, 1883)
  t.equal(redactConfig(loadConfig({ env: {} }) as any).health.token, '', 'an unset secret stays visibly unset')
})

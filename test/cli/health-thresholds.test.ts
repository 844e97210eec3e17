import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { evaluate, formatValue, measures, parseThresholds } from '../../src/cli/health-thresholds.js'
import type { HealthReport } from '../../src/api/routes/health.js'
import { BackupService } from '../../src/services/backups.js'
import { startApp } from '../helpers/app.js'

const noSignals = { once: () => {} }
function io (env: Record<string, string>): {
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

const GB = 1024 ** 3
const report = (extra: Partial<HealthReport> & Record<string, unknown> = {}): HealthReport => ({
  status: 'ok',
  version: '0',
  uptimeS: 1,
  broker: { up: true, clients: 0 },
  db: { ok: true, type: 'sqlite' },
  storage: { dataDir: '/d', diskFreeBytes: 2 * GB, diskTotalBytes: 8 * GB, dbBytes: 5 * 1024 ** 2 },
  backup: { enabled: true, dir: '/d/backups', count: 1, lastAt: 0, ageS: 3600 },
  ...extra
})

t.test('threshold syntax: name=value with size and duration units; bad input names the problem', async t => {
  t.same(
    [...parseThresholds('disk-free=500MB, backup-age=26h,db-size=2GB,writer-lag=1500ms,emergency=on')],
    [
      ['disk-free', 500 * 1024 ** 2],
      ['backup-age', 26 * 3_600_000],
      ['db-size', 2 * GB],
      ['writer-lag', 1500],
      ['emergency', 0.5]
    ]
  )
  t.same([...parseThresholds('backup-age=2d,disk-free=1024')], [['backup-age', 172_800_000], ['disk-free', 1024]])
  t.equal(parseThresholds(undefined).size, 0)
  t.throws(
    () => parseThresholds('disk-space=1GB'),
    /unknown measure "disk-space" \(known: disk-free, db-size, backup-age, writer-lag, emergency\)/
  )
  t.throws(() => parseThresholds('disk-free=lots'), /disk-free=lots: expected a number with one of b, kb, mb, gb, tb/)
  t.throws(() => parseThresholds('backup-age=3 weeks'), /expected a number with one of ms, s, m, h, d/)
  t.throws(() => parseThresholds('emergency=maybe'), /emergency takes "on"/)
})

t.test('evaluate: below/above, critical over warning, absent parts are n/a and never trip', async t => {
  const ok = evaluate(report(), parseThresholds('disk-free=1GB,backup-age=26h'), parseThresholds('disk-free=100MB'))
  t.equal(ok.state, 0)
  t.same(ok.text, ['disk-free 2.0GB', 'db-size 5.0MB', 'backup-age 1.0h', 'writer-lag n/a', 'emergency n/a'])
  t.same(ok.values, {
    'disk-free': 2 * GB,
    'db-size': 5 * 1024 ** 2,
    'backup-age': 3_600_000,
    'writer-lag': null,
    emergency: null
  })
  t.match(ok.perf, ['disk_free=2147483648B;1073741824;104857600', 'db_size=5242880B;;', 'backup_age=3600s;93600;'])

  const warn = evaluate(report(), parseThresholds('disk-free=3GB,writer-lag=1s,emergency=on'), new Map())
  t.equal(warn.state, 1)
  t.equal(warn.text[0], 'disk-free 2.0GB (warning < 3.0GB)')
  const crit = evaluate(report(), parseThresholds('backup-age=30m'), parseThresholds('backup-age=50m'))
  t.equal(crit.state, 2)
  t.equal(crit.text[2], 'backup-age 1.0h (critical > 50.0m)')

  const never = evaluate(
    report({ backup: { enabled: true, dir: '/d', count: 0, lastAt: null, ageS: null } }),
    new Map(),
    parseThresholds('backup-age=1d')
  )
  t.equal(never.state, 2, 'no backup at all is older than any threshold')
  t.equal(never.text[2], 'backup-age never (critical > 1.0d)')
  t.equal(never.values['backup-age'], null)

  const later = evaluate(
    report({ telemetry: { lagMs: 2500 }, emergency: { active: true } }),
    parseThresholds('writer-lag=2s'),
    parseThresholds('emergency=on')
  )
  t.equal(later.state, 2, 'the writer lag and the emergency state are read from their /health parts')
  t.same(later.text.slice(3), ['writer-lag 2.5s (warning > 2.0s)', 'emergency active (critical > active)'])
  t.equal(evaluate(undefined, new Map(), new Map()).text.every(s => s.endsWith('n/a')), true)
  t.equal(formatValue(measures[0], 12), '12B')
  t.equal(formatValue(measures[0], Infinity), 'inf')
  t.equal(formatValue(measures[2], 250), '250ms')
  t.equal(formatValue(measures[4], 0), 'off')
})

t.test('health --warn/--crit against a running gateway: Nagios lines and exit codes 0/1/2/3', async t => {
  const app = await startApp(t)
  const env = {
    AUTOCORE_DATA_DIR: app.config.dataDir,
    AUTOCORE_HTTP_PORT: String(app.gateway.httpPort),
    AUTOCORE_MQTT_PORT: String(app.gateway.mqttPort)
  }
  const run = async (...args: string[]): Promise<{ code: number, lines: string[], errors: string[] }> => {
    const o = io(env)
    return {
      code: await runCli(['node', 'autocore-gateway', 'health', ...args], o, noSignals),
      lines: o.lines,
      errors: o.errors
    }
  }

  const crit = await run('--warn', 'disk-free=1MB', '--crit', 'backup-age=26h')
  t.equal(crit.code, 2, 'no backup yet is critical')
  t.match(
    crit.lines[0],
    new RegExp(/^CRITICAL - http ok, mqtt ok, db ok, disk-free \d+\.\dGB, db-size [\d.]+[KM]B, /.source +
      /backup-age never \(critical > 1\.1d\), writer-lag \d+ms, emergency off \| /.source +
      /disk_free=\d+B;1048576; db_size=\d+B;; writer_lag=\d+s;; emergency=0;;$/.source)
  )

  await new BackupService(app.gateway.services).backupNow()
  const ok = await run('--warn', 'disk-free=1MB,backup-age=1h', '--crit', 'backup-age=26h')
  t.equal(ok.code, 0, ok.lines.join('\n'))
  t.match(
    ok.lines[0],
    new RegExp(/^OK - http ok, mqtt ok, db ok, disk-free .*, backup-age \d+ms, writer-lag \d+ms, /.source +
      /emergency off \| .*backup_age=0s;3600;93600 writer_lag=\d+s;; emergency=0;;$/.source)
  )

  const warn = await run('--warn', 'disk-free=100000TB')
  t.equal(warn.code, 1)
  t.match(warn.lines[0], /^WARNING - .*disk-free [\d.]+[GT]B \(warning < 100000\.0TB\)/)

  const json = await run('--warn', 'db-size=1KB', '--json')
  t.equal(json.code, 1)
  t.match(JSON.parse(json.lines.join('\n')), {
    ok: true,
    state: 1,
    measures: { 'disk-free': Number, 'db-size': Number, 'writer-lag': 0, emergency: 0 }
  })

  const bad = await run('--warn', 'nonsense=1')
  t.equal(bad.code, 3)
  t.match(bad.errors[0], /^UNKNOWN - bad threshold: unknown measure "nonsense"/)

  await app.gateway.services.emergency.trigger({ reason: 'test', actor: { kind: 'gateway' } })
  const stopped = await run('--crit', 'emergency=on')
  t.equal(stopped.code, 2, 'an active emergency stop trips emergency=on')
  t.match(stopped.lines[0], /^CRITICAL - .*, emergency active \(critical > active\) \|/)

  const plain = await run('--json')
  t.equal(plain.code, 0)
  t.match(JSON.parse(plain.lines.join('\n')), {
    ok: true,
    http: { report: { storage: { diskFreeBytes: Number }, backup: { count: 1 } } },
    measures: { 'backup-age': Number }
  })
  await app.stop()

  const down = await run('--warn', 'disk-free=1MB', '--timeout', '1000')
  t.equal(down.code, 2, 'a gateway that does not answer is critical in monitoring mode')
  t.match(
    down.lines[0],
    /^CRITICAL - http failed: ECONNREFUSED, mqtt failed: .*, db failed: unknown \(http failed\), disk-free n\/a/
  )
})

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { cpuTemperatureC, dirBytes, hostInfo } from '../../src/services/system-info.js'

function zone (dir: string, n: number, type: string, temp: string): void {
  mkdirSync(join(dir, `thermal_zone${n}`), { recursive: true })
  writeFileSync(join(dir, `thermal_zone${n}`, 'type'), type + '\n')
  writeFileSync(join(dir, `thermal_zone${n}`, 'temp'), temp + '\n')
}

t.test('CPU temperature: the zone named for the CPU, in °C; null where there is no zone', async t => {
  const pi = t.testdir()
  zone(pi, 0, 'cpu-thermal', '48312')
  t.equal(cpuTemperatureC(pi), 48.3, 'a Raspberry Pi: millidegrees to °C')
  const pc = t.testdir()
  zone(pc, 0, 'acpitz', '27800')
  zone(pc, 1, 'x86_pkg_temp', '61000')
  t.equal(cpuTemperatureC(pc), 61, 'the package sensor, not the first zone')
  const other = t.testdir()
  zone(other, 0, 'battery', 'garbage')
  zone(other, 1, 'board', '35500')
  t.equal(cpuTemperatureC(other), 35.5, 'no CPU zone: the first that reads')
  t.equal(cpuTemperatureC(t.testdir()), null, 'an empty thermal directory')
  t.equal(cpuTemperatureC(join(t.testdir(), 'missing')), null, 'no thermal directory at all (a VM)')
  t.equal(hostInfo(join(t.testdir(), 'missing')).cpuTemperatureC, null)
})

t.test('dirBytes adds up the files below a directory, 0 when it is missing', async t => {
  const dir = t.testdir({ a: 'x'.repeat(100), sub: { b: 'y'.repeat(23) } })
  t.equal(dirBytes(dir), 123)
  t.equal(dirBytes(join(dir, 'nope')), 0)
})

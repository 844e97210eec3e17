import { readdirSync, readFileSync, statSync } from 'node:fs'
import { cpus, freemem, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../config/types.js'
import { tlsDir } from '../tls/material.js'

/** Where Linux lists its thermal zones; a machine without any (most VMs, containers) has no such directory. */
export const THERMAL_DIR = '/sys/class/thermal'

/** Zone types that are the CPU's own sensor (Raspberry Pi: cpu-thermal; x86: x86_pkg_temp; some SoCs: soc-thermal). */
const CPU_ZONE = /cpu|x86_pkg|soc|package/i

function readText (file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return null
  }
}

/**
 * The CPU temperature in °C from `<dir>/thermal_zone*`: the zone whose type names the CPU, else the first zone
 * that reads; null where there is no readable zone (shown as absent, never as 0).
 */
export function cpuTemperatureC (dir: string = THERMAL_DIR): number | null {
  let zones: string[]
  try {
    zones = readdirSync(dir).filter(n => n.startsWith('thermal_zone')).sort()
  } catch {
    return null
  }
  const readings = zones
    .map(z => ({ type: readText(join(dir, z, 'type')) ?? '', milli: Number(readText(join(dir, z, 'temp'))) }))
    .filter(r => Number.isFinite(r.milli) && r.milli !== 0)
  const pick = readings.find(r => CPU_ZONE.test(r.type)) ?? readings[0]
  return pick === undefined ? null : Math.round(pick.milli / 100) / 10
}

/** Bytes of every file under `dir` (the broker's level store); 0 when it does not exist. */
export function dirBytes (dir: string): number {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  let total = 0
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) total += dirBytes(p)
    else if (e.isFile()) total += fileSize(p)
  }
  return total
}

function fileSize (file: string): number {
  try {
    return statSync(file).size
  } catch {
    // Compacted away while we walked the directory.
    return 0
  }
}

export interface HostInfo {
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number]
  cpus: number
  cpuTemperatureC: number | null
  memory: { totalBytes: number, freeBytes: number, processRssBytes: number }
}

export function hostInfo (thermalDir: string = THERMAL_DIR): HostInfo {
  const [l1, l5, l15] = loadavg()
  return {
    load: [l1, l5, l15],
    cpus: cpus().length,
    cpuTemperatureC: cpuTemperatureC(thermalDir),
    memory: { totalBytes: totalmem(), freeBytes: freemem(), processRssBytes: process.memoryUsage.rss() }
  }
}

/**
 * The CA a device must trust for MQTT over TLS: the operator's (tls.caFile) or the generated one; null if unreadable.
 */
export function caPem (config: Pick<Config, 'dataDir' | 'tls'>): string | null {
  return readText(config.tls.caFile !== '' ? config.tls.caFile : join(tlsDir(config.dataDir), 'ca.crt'))
}

import { spawnSync } from 'node:child_process'
import {
  chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync, writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import type { CliIo } from './io.js'

export const NAME = 'autocore-gateway'
export const USER = 'autocore'
export const OPT = `/opt/${NAME}`
export const ETC = '/etc/autocore'
export const VAR = '/var/lib/autocore'
export const UNITS_DIR = '/etc/systemd/system'
export const BIN = `/usr/local/bin/${NAME}`
export const UNIT_FILES = ['autocore-gateway.service', 'autocore-gateway-health.service',
  'autocore-gateway-health.timer', 'autocore-gateway-restart.service']

/**
 * The steps of `install`/`uninstall` (src/cli/install.ts), as scripts/install.sh takes them: every change is
 * printed as `+ what`, and done unless --dry-run; under --root DIR, paths are inside DIR, the user goes into
 * DIR/etc/passwd (useradd --prefix), units are enabled with systemctl --root and nothing is started.
 */
export class Steps {
  constructor (readonly io: CliIo, readonly root: string, readonly dry: boolean) {}

  /** A path of the installed system, inside --root when given. */
  at (path: string): string { return this.root + path }

  private act (line: string, fn: () => void): void {
    this.io.out(`+ ${line}`)
    if (!this.dry) fn()
  }

  command (cmd: string, ...args: string[]): void {
    this.act([cmd, ...args].join(' '), () => {
      const r = spawnSync(cmd, args, { encoding: 'utf8' })
      const why = r.error?.message ?? (r.stderr.trim() || `exit ${String(r.status)}`)
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${why}`)
    })
  }

  mkdir (path: string): void { this.act(`mkdir -p ${path}`, () => mkdirSync(path, { recursive: true })) }
  remove (...paths: string[]): void {
    this.act(`rm -rf ${paths.join(' ')}`, () => { for (const p of paths) rmSync(p, { recursive: true, force: true }) })
  }

  move (from: string, to: string): void { this.act(`mv ${from} ${to}`, () => renameSync(from, to)) }
  chmod (mode: number, path: string): void { this.act(`chmod ${octal(mode)} ${path}`, () => chmodSync(path, mode)) }

  chown (owner: string, path: string, recursive = false): void {
    this.act(`chown ${recursive ? '-R ' : ''}${owner} ${path}`, () => {
      const [uid, gid] = this.ids(owner)
      const walk = (p: string): void => {
        chownSync(p, uid, gid)
        if (recursive && statSync(p).isDirectory()) for (const n of readdirSync(p)) walk(join(p, n))
      }
      walk(path)
    })
  }

  /** A file with this content and mode (as install.sh's write_file). */
  write (path: string, mode: number, content: string | Buffer): void {
    this.io.out(`+ write ${path} (mode ${octal(mode)})`)
    if (!this.dry) { writeFileSync(path, content); chmodSync(path, mode) }
  }

  /** A copy with this mode (as `install -m`). */
  install (mode: number, from: string, to: string): void {
    this.act(`install -m ${octal(mode)} ${from} ${to}`, () => { copyFileSync(from, to); chmodSync(to, mode) })
  }

  /** A directory copied with 0755 directories and 0644 files (the executable's extracted files are private). */
  copyTree (from: string, to: string): void {
    this.act(`cp -r ${from} ${to}`, () => copyTree(from, to))
  }

  systemctl (...args: string[]): void {
    if (this.root === '') return this.command('systemctl', ...args)
    if (args[0] !== 'enable' && args[0] !== 'disable') {
      this.io.out(`- skipped in --root mode: systemctl ${args.join(' ')}`)
      return
    }
    this.command('systemctl', `--root=${this.root}`, ...args.filter(a => a !== '--now'))
  }

  /** `uid:gid` of the service user when it exists (by number under --root), else the names. */
  owner (): string {
    const line = this.passwdLine()
    if (line === undefined) return `${USER}:${USER}`
    const [, , uid, gid] = line.split(':')
    return this.root === '' ? `${USER}:${USER}` : `${uid}:${gid}`
  }

  /** `autocore:autocore`, `0:autocore` or `998:998` as numbers (the names are the service user's). */
  private ids (owner: string): [number, number] {
    const [, , uid, gid] = (this.passwdLine() ?? '').split(':')
    const [u, g] = owner.split(':')
    const num = (part: string, id: string | undefined): number => {
      const n = Number(/^\d+$/.test(part) ? part : id)
      if (!Number.isInteger(n)) throw new Error(`chown ${owner}: no user ${USER}`)
      return n
    }
    return [num(u, uid), num(g, gid)]
  }

  /** The group part of owner(), numeric when known. */
  group (): string { return this.owner().split(':')[1] }

  passwdLine (): string | undefined {
    if (this.root === '') {
      const r = spawnSync('getent', ['passwd', USER], { encoding: 'utf8' })
      return r.status === 0 ? r.stdout.trim() : undefined
    }
    const file = this.at('/etc/passwd')
    if (!existsSync(file)) return undefined
    return readFileSync(file, 'utf8').split('\n').find(l => l.startsWith(`${USER}:`))
  }

  prefix (): string[] { return this.root === '' ? [] : ['--prefix', this.root] }
}

const octal = (mode: number): string => '0' + mode.toString(8)

function copyTree (from: string, to: string): void {
  if (statSync(from).isDirectory()) {
    mkdirSync(to, { recursive: true, mode: 0o755 })
    chmodSync(to, 0o755)
    for (const n of readdirSync(from)) copyTree(join(from, n), join(to, n))
  } else {
    copyFileSync(from, to)
    chmodSync(to, 0o644)
  }
}

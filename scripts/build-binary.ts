/**
 * `npm run release` (after the build): one single executable per target, artifacts/autocore-gateway-<target>,
 * each with a .sha256 beside it. Node.js of this machine's exact version with, injected by postject, one blob:
 * the bundled CommonJS script (scripts/binary/bundle.ts) and its assets — the panel, config/default.json, the
 * systemd units, README.md, RELEASE.json, the target's native modules — listed with their SHA-256 in
 * manifest.json (the executable checks every file it writes and every native module before loading it).
 *   node dist/scripts/build-binary.js [--target linux-x64|linux-arm64]... [--out DIR]
 */
import { execFileSync } from 'node:child_process'
import {
  chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { packageRoot as root } from '../src/paths.js'
import { sha256, type Manifest, type Release } from '../src/runtime/embedded.js'
import { bundle, unpatched } from './binary/bundle.js'
import { runtimeCopy, targetInputs, TARGETS, type Target } from './binary/natives.js'

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

function walk (dir: string): string[] {
  return readdirSync(dir).flatMap(n => statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)])
}

/** The files every target carries, by their path under the extracted root (where src/paths.ts expects them). */
function commonAssets (): Record<string, string> {
  const assets: Record<string, string> = {
    'config/default.json': join(root, 'config', 'default.json'),
    'README.md': join(root, 'README.md')
  }
  for (const f of readdirSync(join(root, 'systemd'))) assets[`systemd/${f}`] = join(root, 'systemd', f)
  for (const f of walk(join(root, 'dist', 'panel'))) assets[relative(root, f)] = f
  return assets
}

function commit (): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
  } catch { return 'unknown' }
}

async function buildTarget (target: Target, script: string, out: string, work: string): Promise<string> {
  const inputs = targetInputs(root, target)
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string, version: string }
  const release: Release = {
    version: pkg.version,
    commit: commit(),
    target,
    node: process.version,
    natives: inputs.versions,
    built: new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  }
  const dir = join(work, target)
  mkdirSync(dir, { recursive: true })
  const generated: Record<string, string> = {
    'RELEASE.json': JSON.stringify(release, null, 2) + '\n',
    'package.json': JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module' }) + '\n'
  }
  const assets = { ...commonAssets() }
  for (const [name, text] of Object.entries(generated)) {
    assets[name] = join(dir, name)
    writeFileSync(assets[name], text)
  }
  for (const [name, file] of Object.entries(inputs.natives)) assets[`native/${name}`] = file
  const manifest: Manifest = { release, files: {} }
  for (const [name, file] of Object.entries(assets)) manifest.files[name] = sha256(readFileSync(file))
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest))
  assets['manifest.json'] = join(dir, 'manifest.json')

  // The code cache is machine code for the building CPU: only for the target this machine is.
  const host = target === `${process.platform}-${process.arch}`
  writeFileSync(join(dir, 'sea-config.json'), JSON.stringify({
    main: script,
    output: join(dir, 'sea.blob'),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: host,
    assets
  }))
  execFileSync(process.execPath, ['--experimental-sea-config', join(dir, 'sea-config.json')], { stdio: 'ignore' })

  const exe = join(dir, `autocore-gateway-${target}`)
  runtimeCopy(inputs.node, target, exe)
  execFileSync(process.execPath, [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), exe, 'NODE_SEA_BLOB',
    join(dir, 'sea.blob'), '--sentinel-fuse', SEA_FUSE], { stdio: 'ignore' })
  chmodSync(exe, 0o755)
  const name = `autocore-gateway-${target}`
  const final = join(out, name)
  // The checksum first, then the executable by rename: whoever sees the executable sees its checksum.
  writeFileSync(final + '.sha256', `${sha256(readFileSync(exe))}  ${name}\n`)
  copyFileSync(exe, final + '.tmp')
  renameSync(final + '.tmp', final)
  return final
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, out: { type: 'string' } } })
  const targets = (values.target ?? TARGETS) as Target[]
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t} (${TARGETS.join(', ')})`)
  const out = values.out ?? join(root, 'artifacts')
  mkdirSync(out, { recursive: true })
  const work = mkdtempSync(join(tmpdir(), 'autocore-binary-'))
  try {
    const script = join(work, 'gateway.cjs')
    const b = await bundle(root, script)
    const missing = unpatched(root, b.inputs)
    if (missing.length > 0) throw new Error(`patches not in the bundle: ${missing.join(', ')}`)
    for (const t of targets) {
      const file = await buildTarget(t, script, out, work)
      process.stdout.write(`build-binary: ${file} (${(statSync(file).size / 1048576).toFixed(1)} MB)\n`)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`build-binary: ${(err as Error).message}\n`)
  process.exit(1)
})

import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/**
 * The single executable (scripts/build-binary.ts): Node.js with one bundled script and its assets injected. The
 * assets (panel, default config, systemd units, native modules, RELEASE.json) are written once to a cache directory
 * and verified against the SHA-256 sums the build recorded in manifest.json, itself an asset inside the executable;
 * that directory then stands where the package root stands in a checkout. Outside the executable this is a no-op.
 */

/** What the build records: RELEASE.json's content and the SHA-256 of every embedded file. */
export interface Release {
  version: string
  commit: string
  target: string
  node: string
  natives: Record<string, string>
  built: string
}
export interface Manifest { release: Release, files: Record<string, string> }

interface Sea { isSea: () => boolean, getAsset: (key: string) => ArrayBuffer }

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

function sea (): Sea | undefined {
  const mod = process.getBuiltinModule('node:sea') as Sea | undefined
  return mod?.isSea() === true ? mod : undefined
}

/** The manifest of the running executable, or undefined when this is not the single executable. */
export function embeddedManifest (): Manifest | undefined {
  const s = sea()
  return s === undefined ? undefined : JSON.parse(Buffer.from(s.getAsset('manifest.json')).toString('utf8')) as Manifest
}

/** Where the assets may go, best first: AUTOCORE_CACHE_DIR, the XDG cache, ~/.cache, then a per-user temp dir. */
function cacheBases (env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? homedir()
  const bases = [env.AUTOCORE_CACHE_DIR, env.XDG_CACHE_HOME, home === '' ? undefined : join(home, '.cache'),
    join(tmpdir(), `autocore-gateway-${process.getuid?.() ?? 0}`)]
  return bases.filter((d): d is string => d !== undefined && d !== '')
}

/** A directory only this user can write, or an error: another user's files must never be loaded as ours. */
function privateDir (dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = statSync(dir)
  if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) throw new Error(`${dir}: not owned by this user only`)
}

/**
 * Writes every file of the manifest into dir (a private directory) unless the one there has the recorded SHA-256;
 * an asset that does not match its own recorded sum is an error, never written.
 */
export function extractInto (dir: string, s: Pick<Sea, 'getAsset'>, manifest: Manifest): string {
  privateDir(dirname(dir))
  privateDir(dir)
  for (const [name, hash] of Object.entries(manifest.files)) {
    const file = join(dir, name)
    if (existsSync(file) && sha256(readFileSync(file)) === hash) continue
    const data = Buffer.from(s.getAsset(name))
    if (sha256(data) !== hash) throw new Error(`embedded ${name}: SHA-256 differs from the manifest`)
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, data, { mode: name.startsWith('bin/') ? 0o700 : 0o600 })
    renameSync(tmp, file)
  }
  return dir
}

/**
 * The directory holding the executable's assets, written and verified on first use (one per build: its name is
 * the manifest's hash), or undefined outside the single executable.
 */
export function embeddedRoot (env: NodeJS.ProcessEnv = process.env): string | undefined {
  const s = sea()
  if (s === undefined) return undefined
  const text = Buffer.from(s.getAsset('manifest.json'))
  const manifest = JSON.parse(text.toString('utf8')) as Manifest
  const id = sha256(text).slice(0, 16)
  const failures: string[] = []
  for (const base of cacheBases(env)) {
    try {
      return extractInto(join(base, 'autocore-gateway', id), s, manifest)
    } catch (err) {
      failures.push((err as Error).message)
    }
  }
  throw new Error('autocore-gateway: no usable cache directory for the embedded files (set AUTOCORE_CACHE_DIR): ' +
    failures.join('; '))
}

/** `--version` of the single executable: the version and every input the build names. */
export function releaseText (r: Release): string {
  const natives = Object.entries(r.natives).map(([k, v]) => `${k} ${v}`).join(', ')
  return `autocore-gateway ${r.version} (commit ${r.commit}, ${r.target}, built ${r.built})\n` +
    `node ${process.version} embedded (built for ${r.node}); native modules: ${natives}`
}

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../paths.js'
import { embeddedManifest, sha256 } from './embedded.js'

/**
 * Loads a native module of the single executable from the extracted assets (native/<file>), after checking its
 * SHA-256 against the manifest compiled into the executable: a file changed in the cache is refused, not loaded.
 * The bundle routes better-sqlite3's `bindings` and classic-level's `node-gyp-build` here (scripts/build-binary.ts).
 */
export function loadNative (file: string): unknown {
  const name = `native/${file}`
  const want = embeddedManifest()?.files[name]
  if (want === undefined) throw new Error(`${file}: not a native module of this executable`)
  const path = join(packageRoot, name)
  if (sha256(readFileSync(path)) !== want) throw new Error(`${path}: SHA-256 differs from the executable's manifest`)
  const mod = { exports: {} }
  process.dlopen(mod, path)
  return mod.exports
}

/**
 * The single executable's JavaScript: dist/src/runtime/sea-main.js (tsc's output, so TypeORM's decorator metadata
 * is already emitted) and every production dependency bundled by esbuild into ONE CommonJS script, as Node 20's
 * single executable applications require. node_modules is bundled as installed, so the patches/ that postinstall
 * applied (aedes, mqtt-packet, aedes-persistence-level) are in it; unpatched() proves it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build, type Plugin } from 'esbuild'

/** The native loaders of better-sqlite3 (`bindings`) and classic-level (`node-gyp-build`), routed to loadNative. */
function nativeShims (loader: string): Plugin {
  const shims: Record<string, string> = {
    bindings: `module.exports = name => require(${JSON.stringify(loader)}).loadNative(name)`,
    'node-gyp-build': `module.exports = () => require(${JSON.stringify(loader)}).loadNative('classic-level.node')`
  }
  return {
    name: 'native-shims',
    setup (b) {
      b.onResolve({ filter: /^(bindings|node-gyp-build)$/ }, a => ({ path: a.path, namespace: 'native-shim' }))
      b.onLoad({ filter: /.*/, namespace: 'native-shim' }, a => ({ contents: shims[a.path], resolveDir: '/' }))
    }
  }
}

/**
 * Modules that are required only on paths this gateway never takes: TypeORM's other database drivers, pg's
 * native binding, optional speedups. Each is bundled as a module that throws when required (the libraries that
 * try them catch that), never as a require() the executable would try on disk.
 */
const NEVER_LOADED = ['pg-native', 'mysql', 'mysql2', 'oracledb', 'mssql', 'sqlite3', 'sql.js', 'mongodb', 'redis',
  'ioredis', '@sap/hana-client', '@sap/hana-client/extension/Stream', 'hdb-pool', 'react-native-sqlite-storage',
  '@google-cloud/spanner', 'typeorm-aurora-data-api-driver', 'pg-query-stream', '@capacitor-community/sqlite',
  'bufferutil', 'utf-8-validate', 'supports-color']

function absent (names: string[]): Plugin {
  const filter = new RegExp(`^(${names.map(n => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`)
  return {
    name: 'absent',
    setup (b) {
      b.onResolve({ filter }, a => ({ path: a.path, namespace: 'absent' }))
      b.onLoad({ filter: /.*/, namespace: 'absent' }, a => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`${a.path}: not in the single executable`)}), ` +
          "{ code: 'MODULE_NOT_FOUND' })"
      }))
    }
  }
}

/**
 * TypeORM loads its driver with require(name), which the executable's require cannot follow: the two drivers this
 * gateway uses are named statically instead (so they are bundled), any other is refused with its name.
 */
function typeormDrivers (): Plugin {
  const load = /try \{\s*\/\/[^\n]*\n\s*return require\(name\);[\s\S]*?return require\(path_1[^\n]*\n\s*\}/
  return {
    name: 'typeorm-drivers',
    setup (b) {
      b.onLoad({ filter: /typeorm[\\/]platform[\\/]PlatformTools\.js$/ }, a => {
        const text = readFileSync(a.path, 'utf8')
        if (!load.test(text)) throw new Error(`${a.path}: PlatformTools.load changed, the bundle cannot name drivers`)
        return {
          contents: text.replace(load, 'if (name === "better-sqlite3") return require("better-sqlite3");\n' +
            'if (name === "pg") return require("pg");\nthrow new Error(name + ": not in the single executable");'),
          loader: 'js'
        }
      })
    }
  }
}

export interface BundleResult { file: string, inputs: string[], warnings: string[] }

export async function bundle (root: string, outfile: string): Promise<BundleResult> {
  const result = await build({
    entryPoints: [join(root, 'dist', 'src', 'runtime', 'sea-main.js')],
    outfile,
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    keepNames: true,
    legalComments: 'none',
    plugins: [absent(NEVER_LOADED), typeormDrivers(), nativeShims(join(root, 'dist', 'src', 'runtime', 'native.js'))],
    // import.meta.url is read only by findPackageRoot (src/paths.ts), which the executable never calls.
    logOverride: { 'empty-import-meta': 'silent' },
    metafile: true,
    logLevel: 'error'
  })
  return {
    file: outfile,
    inputs: Object.keys(result.metafile.inputs),
    warnings: result.warnings.map(w => w.text)
  }
}

/**
 * The patches/ that are not in the bundle: for each file a patch changes, the bundle must have been built from
 * that file (esbuild's inputs) and the file must hold every line the patch adds (postinstall applied it).
 */
export function unpatched (root: string, inputs: string[]): string[] {
  // Patches of one package stack (aedes 001, 002, …) and a later one may replace lines an earlier one added: what
  // must be in the bundle is every line added and not removed again by a later patch of the same file.
  const expected = new Map<string, Map<string, string>>()
  for (const p of readdirSync(join(root, 'patches')).sort()) {
    let file = ''
    for (const line of readFileSync(join(root, 'patches', p), 'utf8').split('\n')) {
      if (line.startsWith('+++ b/')) file = line.slice('+++ b/'.length)
      if (line.startsWith('+++ ') || line.startsWith('--- ') || !file.endsWith('.js') || line.trim().length <= 1) {
        continue
      }
      const lines = expected.get(file) ?? new Map<string, string>()
      expected.set(file, lines)
      if (line.startsWith('+')) lines.set(line.slice(1), p)
      else if (line.startsWith('-')) lines.delete(line.slice(1))
    }
  }
  const missing = new Set<string>()
  for (const [file, lines] of expected) {
    const text = inputs.includes(file) ? readFileSync(join(root, file), 'utf8') : undefined
    for (const [line, p] of lines) if (text === undefined || !text.includes(line)) missing.add(`${p}: ${file}`)
  }
  return [...missing]
}

import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import {
  embeddedManifest, embeddedRoot, extractInto, releaseText, sha256, type Manifest
} from '../../src/runtime/embedded.js'

const release = {
  version: '1.2.3',
  commit: 'abc1234',
  target: 'linux-arm64',
  node: 'v20.20.2',
  natives: { 'better-sqlite3': '12.11.1' },
  built: '2026-12-07T00:00:00Z'
}
const files: Record<string, Buffer> = {
  'config/default.json': Buffer.from('{}\n'),
  'native/x.node': Buffer.from('ELF')
}
const sums = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha256(v)]))
const manifest: Manifest = { release, files: sums }
const assets = (over: Record<string, Buffer> = {}) => ({
  getAsset: (key: string): ArrayBuffer => {
    const b = over[key] ?? files[key]
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
  }
})

t.test('outside the single executable: no manifest, no extracted root', async t => {
  t.equal(embeddedManifest(), undefined)
  t.equal(embeddedRoot(), undefined)
})

t.test('extractInto writes each file once, private, and writes again one changed on disk', async t => {
  const base = t.testdir()
  const dir = join(base, 'autocore-gateway', 'id')
  mkdirSync(join(base, 'autocore-gateway'), { mode: 0o700 })
  t.equal(extractInto(dir, assets(), manifest), dir)
  t.equal(readFileSync(join(dir, 'config/default.json'), 'utf8'), '{}\n')
  t.equal(statSync(dir).mode & 0o777, 0o700)
  t.equal(statSync(join(dir, 'native/x.node')).mode & 0o777, 0o600)
  writeFileSync(join(dir, 'native/x.node'), 'planted')
  extractInto(dir, assets(), manifest)
  t.equal(readFileSync(join(dir, 'native/x.node'), 'utf8'), 'ELF', 'the planted file is replaced')
})

t.test('extractInto refuses an asset that differs from its sum, and a directory others can write', async t => {
  const base = t.testdir()
  mkdirSync(join(base, 'a'), { mode: 0o700 })
  t.throws(() => extractInto(join(base, 'a', 'id'), assets({ 'native/x.node': Buffer.from('evil') }), manifest),
    /embedded native\/x\.node: SHA-256 differs/)
  mkdirSync(join(base, 'b'))
  chmodSync(join(base, 'b'), 0o777)
  t.throws(() => extractInto(join(base, 'b', 'id'), assets(), manifest), /not owned by this user only/)
})

t.test('--version text names every input', async t => {
  const text = releaseText(release)
  t.match(text, /^autocore-gateway 1\.2\.3 \(commit abc1234, linux-arm64, built 2026-12-07T00:00:00Z\)\n/)
  t.match(text, `node ${process.version} embedded (built for v20.20.2); native modules: better-sqlite3 12.11.1`)
})

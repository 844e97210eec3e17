import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib'
import { packageRoot } from '../../src/paths.js'

/**
 * The browser of the panel tests comes with `npm ci`: the devDependency @sparticuz/chromium ships a headless
 * Chromium inside its npm package (bin/chromium.br, brotli-compressed), with the few shared libraries it links
 * against beyond glibc (NSS, NSPR, expat: bin/al2023.tar.br) and a font (bin/fonts.tar.br). Nothing is downloaded,
 * nothing comes from the system's packages: the binary is unpacked once into node_modules/.cache and run with
 * LD_LIBRARY_PATH on the shipped libraries and a fontconfig file of its own, so that the panel renders the same
 * everywhere.
 *
 * The package's own executablePath() is not used: it unpacks into /tmp/chromium in place, so a second test file
 * starting meanwhile would launch a half-written binary, and an older /tmp/chromium would be taken for the current
 * one. Here each version has its own directory, filled under a temporary name and renamed into place whole.
 */
export interface ShippedChromium {
  executablePath: string
  /** The browser's environment: process.env plus the shipped libraries and fonts. */
  env: Record<string, string>
  version: string
}

const require = createRequire(import.meta.url)

function packageDir (): string {
  // The package's exports map has no ./package.json: resolve its entry and go up to the package's root.
  let dir = dirname(require.resolve('@sparticuz/chromium'))
  while (!existsSync(join(dir, 'bin', 'chromium.br'))) {
    if (dirname(dir) === dir) throw new Error('@sparticuz/chromium: bin/chromium.br not found; run npm ci')
    dir = dirname(dir)
  }
  return dir
}

/** The files of a (ustar) tar archive: name and contents, directories skipped. */
function untar (archive: Buffer): Array<{ name: string, data: Buffer }> {
  const files: Array<{ name: string, data: Buffer }> = []
  for (let at = 0; at + 512 <= archive.length;) {
    const header = archive.subarray(at, at + 512)
    if (header.every(b => b === 0)) break
    const field = (from: number, to: number): string => header.subarray(from, to).toString('utf8').replace(/\0.*$/s, '')
    const size = parseInt(field(124, 136).trim() || '0', 8)
    const prefix = field(345, 500)
    const name = (prefix !== '' ? prefix + '/' : '') + field(0, 100)
    const type = field(156, 157)
    if (type === '0' || type === '') files.push({ name, data: archive.subarray(at + 512, at + 512 + size) })
    at += 512 + Math.ceil(size / 512) * 512
  }
  return files
}

function unpackTar (brFile: string, into: string): void {
  for (const { name, data } of untar(brotliDecompressSync(readFileSync(brFile)))) {
    if (name.split('/').includes('..')) throw new Error(`${brFile}: unsafe path ${name}`)
    mkdirSync(dirname(join(into, name)), { recursive: true })
    writeFileSync(join(into, name), data, { mode: 0o755 })
  }
}

let shipped: Promise<ShippedChromium> | undefined

/** The shipped Chromium, unpacked on first use (a few seconds, once per version per checkout). */
export async function shippedChromium (): Promise<ShippedChromium> {
  shipped ??= unpack()
  return await shipped
}

async function unpack (): Promise<ShippedChromium> {
  const pkg = packageDir()
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }
  const dir = join(packageRoot, 'node_modules', '.cache', 'autocore-chromium', version)
  const result: ShippedChromium = {
    executablePath: join(dir, 'chromium'),
    version,
    env: {
      ...process.env as Record<string, string>,
      LD_LIBRARY_PATH: [join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf')
    }
  }
  if (existsSync(result.executablePath)) return result

  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  mkdirSync(tmp, { recursive: true })
  try {
    await pipeline(createReadStream(join(pkg, 'bin', 'chromium.br')), createBrotliDecompress(),
      createWriteStream(join(tmp, 'chromium'), { mode: 0o755 }))
    unpackTar(join(pkg, 'bin', 'al2023.tar.br'), tmp)
    unpackTar(join(pkg, 'bin', 'fonts.tar.br'), tmp)
    // The package's fonts.conf names /tmp/fonts; this one names the fonts where they are.
    writeFileSync(join(tmp, 'fonts.conf'), '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM ' +
      '"fonts.dtd">\n<fontconfig>\n' +
      `  <dir>${join(dir, 'fonts')}</dir>\n  <cachedir>${join(dir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`)
    try {
      renameSync(tmp, dir)
    } catch (err) {
      // Another test file unpacked the same version first: theirs is complete, ours goes.
      if (!existsSync(result.executablePath)) throw err
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return result
}

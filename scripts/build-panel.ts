/**
 * `npm run build` (after tsc): bundles the browser panel (src/panel, Preact + MQTT.js's browser build) with esbuild
 * into dist/panel: index.html, favicon.svg and content-hashed assets/, each with a .gz beside it, which the gateway
 * serves at `/` (src/api/panel.ts). Prints the gzipped JavaScript size and fails above the budget: the panel must
 * load fast on a Raspberry Pi's Wi-Fi and a cheap tablet.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { packageRoot } from '../src/paths.js'

/** Gzipped JavaScript budget (issue #7: under 250 KB). */
const JS_BUDGET_BYTES = 250 * 1024

const src = join(packageRoot, 'src', 'panel')
const out = join(packageRoot, 'dist', 'panel')

function files (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`

async function main (): Promise<void> {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const result = await build({
    entryPoints: [join(src, 'main.tsx')],
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    // Browsers of cheap tablets a few years old (WebSocket, ES2020, CSS variables).
    target: ['es2020', 'chrome87', 'safari15', 'firefox78'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning'
  })
  const outputs = Object.keys(result.metafile.outputs).map(p => join(packageRoot, p))
  const script = outputs.find(p => p.endsWith('.js'))
  const style = outputs.find(p => p.endsWith('.css'))
  if (script === undefined || style === undefined) throw new Error('esbuild produced no script or stylesheet')
  const url = (p: string): string => '/' + relative(out, p).split('\\').join('/')
  const html = readFileSync(join(src, 'index.html'), 'utf8')
    .replace('%SCRIPT%', url(script))
    .replace('%STYLE%', url(style))
  writeFileSync(join(out, 'index.html'), html)
  copyFileSync(join(src, 'favicon.svg'), join(out, 'favicon.svg'))

  let jsRaw = 0
  let jsGzip = 0
  for (const file of files(out)) {
    const body = readFileSync(file)
    const gz = gzipSync(body, { level: 9 })
    writeFileSync(file + '.gz', gz)
    if (file.endsWith('.js')) {
      jsRaw += body.length
      jsGzip += gz.length
    }
    console.log(
      `panel: ${relative(packageRoot, file).padEnd(40)} ${kb(body.length).padStart(9)}  ` +
      `gzip ${kb(gz.length).padStart(9)}`
    )
  }
  console.log(
    `panel: JavaScript ${kb(jsRaw)}, gzipped ${kb(jsGzip)} (budget ${kb(JS_BUDGET_BYTES)}) → ` +
    `${relative(packageRoot, out)}/`
  )
  if (jsGzip > JS_BUDGET_BYTES) {
    throw new Error(`panel JavaScript is ${kb(jsGzip)} gzipped, over the ${kb(JS_BUDGET_BYTES)} budget`)
  }
}

main().catch(err => {
  console.error(`panel build failed: ${(err as Error).message}`)
  process.exitCode = 1
})

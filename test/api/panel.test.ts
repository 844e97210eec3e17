import { mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { captureLogger, startApp } from '../helpers/app.js'
import { loadPanel, panelStatic } from '../../src/api/panel.js'

// The built panel (npm run build → dist/panel) served by the gateway at `/`, beside /api/v1, /health and /mqtt.

/** node:http, not fetch(): fetch decodes gzip by itself and adds `cache-control: no-cache` to conditional requests. */
async function rawGet (
  url: string,
  headers: Record<string, string>
): Promise<{ status: number, headers: Record<string, unknown>, bytes: Buffer }> {
  return await new Promise((resolve, reject) => {
    http.get(url, { headers }, r => {
      const chunks: Buffer[] = []
      r.on('data', c => chunks.push(c as Buffer))
        .on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, bytes: Buffer.concat(chunks) }))
        .on('error', reject)
    }).on('error', reject)
  })
}

const asset = (html: string, ext: 'js' | 'css'): string => {
  const m = new RegExp(`(/assets/main-[A-Z0-9]+\\.${ext})`).exec(html)
  if (m === null) throw new Error(`no ${ext} asset in index.html`)
  return m[1]
}

t.test('GET / is the panel; its assets are immutable, gzipped when accepted, and revalidate with ETags', async t => {
  const app = await startApp(t, { config: { mqtt: { wsPath: '/mqtt-ws' } } })
  const res = await fetch(app.httpUrl + '/')
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
  t.equal(res.headers.get('cache-control'), 'no-cache', 'index.html always revalidates')
  t.match(res.headers.get('content-security-policy'), /default-src 'self'/)
  t.equal(res.headers.get('x-content-type-options'), 'nosniff')
  const html = await res.text()
  t.match(html, '<meta name="autocore-ws-path" content="/mqtt-ws">', 'the configured MQTT WebSocket path is written in')
  t.equal((await (await fetch(app.httpUrl + '/index.html')).text()), html, '/index.html is the same page')

  const js = asset(html, 'js')
  const plain = await fetch(app.httpUrl + js, { headers: { 'accept-encoding': 'identity' } })
  t.equal(plain.status, 200)
  t.equal(plain.headers.get('content-type'), 'text/javascript; charset=utf-8')
  t.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable')
  t.equal(plain.headers.get('content-encoding'), null)
  const body = Buffer.from(await plain.arrayBuffer())
  t.ok(body.length > 10_000, 'the bundle')

  const raw = await rawGet(app.httpUrl + js, { 'accept-encoding': 'gzip, deflate' })
  t.equal(raw.headers['content-encoding'], 'gzip')
  t.match(String(raw.headers.vary), /accept-encoding/i)
  t.ok(raw.bytes.length < body.length / 2, `gzipped: ${raw.bytes.length} of ${body.length} bytes`)
  t.same(gunzipSync(raw.bytes), body, 'the same file')

  const css = await fetch(app.httpUrl + asset(html, 'css'))
  t.equal(css.headers.get('content-type'), 'text/css; charset=utf-8')
  t.equal((await fetch(app.httpUrl + '/favicon.svg')).headers.get('content-type'), 'image/svg+xml')

  const etag = plain.headers.get('etag')
  t.ok(etag)
  const again = await rawGet(app.httpUrl + js, { 'if-none-match': etag ?? '' })
  t.equal(again.status, 304, 'a cached copy is confirmed with 304')
  t.equal(again.bytes.length, 0)
  const head = await fetch(app.httpUrl + '/', { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal(await head.text(), '')
})

t.test('nothing outside the built panel is served; the API, /health and /mqtt keep working', async t => {
  const app = await startApp(t)
  for (const path of [
    '/package.json',
    '/assets/../package.json',
    '/%2e%2e/package.json',
    '/..%2f..%2fpackage.json',
    '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    '/src/panel/main.tsx',
    '/assets/',
    '/index.html.gz',
    '/assets/nope.js',
    '//etc/passwd'
  ]) {
    const res = await fetch(app.httpUrl + path)
    t.equal(res.status, 404, `${path} is not served`)
    t.match(await res.json(), { error: { code: 'GW_ERR_HTTP_NOT_FOUND' } })
  }
  const post = await fetch(app.httpUrl + '/', { method: 'POST' })
  t.equal(post.status, 404, 'only GET and HEAD reach the panel')

  t.equal((await fetch(app.httpUrl + '/health')).status, 200)
  const openapi = await fetch(app.httpUrl + '/api/v1/openapi.json')
  t.equal(openapi.status, 200)
  t.match(openapi.headers.get('content-type'), /application\/json/)
  t.equal((await fetch(app.httpUrl + '/api/v1/auth/me')).status, 401, 'the API still wants its token')
  const ws = await fetch(app.httpUrl + '/mqtt')
  t.equal(ws.status, 404, 'a plain GET of the WebSocket path is not the panel')
})

t.test('without a built panel: a warning at start, and / is a plain 404', async t => {
  const dir = t.testdir()
  const { log, lines } = captureLogger()
  t.type(panelStatic({ dir: join(dir, 'missing'), wsPath: '/mqtt', log }), 'function')
  t.equal(loadPanel(join(dir, 'missing'), '/mqtt').size, 0)
  t.match(lines, [{ msg: 'panel not built: run npm run build' }])

  // A directory holding files the panel does not serve (unknown types) serves nothing of them.
  mkdirSync(join(dir, 'built', 'assets'), { recursive: true })
  writeFileSync(join(dir, 'built', 'index.html'), '<meta name="autocore-ws-path" content="%WS_PATH%">')
  writeFileSync(join(dir, 'built', 'assets', 'secret.key'), 'x')
  const files = loadPanel(join(dir, 'built'), '/m"><script>')
  t.same([...files.keys()].sort(), ['/', '/index.html'])
  t.equal(
    files.get('/')?.body.toString(),
    '<meta name="autocore-ws-path" content="/mscript">',
    'the path is written in without markup'
  )
})

import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import type { Middleware } from 'koa'
import type { Logger } from '../log.js'
import { packageRoot } from '../paths.js'

/** Where `npm run build` writes the bundled panel (scripts/build-panel.ts). */
export const panelDir = join(packageRoot, 'dist', 'panel')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json'
}

/**
 * Names under assets/ carry a content hash (esbuild `[name]-[hash]`): they never change, so they are cached for good.
 */
const IMMUTABLE = 'public, max-age=31536000, immutable'
/** index.html names the current assets: always revalidated (cheap: ETag → 304). */
const REVALIDATE = 'no-cache'

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src " +
    "'self' data:; " +
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY'
}

export interface PanelFile { body: Buffer, gzip: Buffer | undefined, type: string, etag: string, cacheControl: string }

function walk (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

const etagOf = (body: Buffer): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`

/**
 * Reads the built panel into memory once (a few hundred KB): the URL → file table is fixed at start, so a request
 * can only ever get one of these files — no path from the URL reaches the file system (no traversal by
 * construction). index.html gets the configured MQTT WebSocket path; its .gz is dropped since it changed.
 */
export function loadPanel (dir: string, wsPath: string): Map<string, PanelFile> {
  const files = new Map<string, PanelFile>()
  if (!existsSync(dir)) return files
  for (const file of walk(dir)) {
    const ext = extname(file)
    const type = TYPES[ext]
    if (type === undefined) continue
    const url = '/' + relative(dir, file).split(sep).join('/')
    let body = readFileSync(file)
    let gzip = existsSync(file + '.gz') ? readFileSync(file + '.gz') : undefined
    if (url === '/index.html') {
      body = Buffer.from(body.toString('utf8').replace('%WS_PATH%', wsPath.replace(/[^\w/.-]/g, '')))
      gzip = undefined
    }
    const cacheControl = url.startsWith('/assets/')
      ? IMMUTABLE
      : url === '/index.html'
        ? REVALIDATE
        : 'public, max-age=3600'
    files.set(url, { body, gzip, type, etag: etagOf(body), cacheControl })
  }
  const index = files.get('/index.html')
  if (index !== undefined) files.set('/', index)
  return files
}

/**
 * Serves the panel at `/` (GET and HEAD). Mounted after the API routers, so /api/v1, /health and the rest are never
 * shadowed; a path that is not a panel file passes on (and ends as the usual JSON 404).
 */
export function panelStatic (opts: { dir?: string, wsPath: string, log: Logger }): Middleware {
  const dir = opts.dir ?? panelDir
  const files = loadPanel(dir, opts.wsPath)
  if (files.size === 0) opts.log.warn({ dir }, 'panel not built: run npm run build')
  else opts.log.debug({ dir, files: files.size }, 'panel loaded')
  return async (ctx, next) => {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined
    if (file === undefined) return await next()
    ctx.set(SECURITY_HEADERS)
    ctx.set('cache-control', file.cacheControl)
    ctx.vary('accept-encoding')
    ctx.type = file.type
    ctx.etag = file.etag
    ctx.status = 200
    if (ctx.fresh) {
      ctx.status = 304
      return
    }
    if (file.gzip !== undefined && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('content-encoding', 'gzip')
      ctx.body = file.gzip
    } else {
      ctx.body = file.body
    }
  }
}

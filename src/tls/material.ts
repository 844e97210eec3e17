import { X509Certificate } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../config/types.js'
import { GatewayError } from '../errors.js'
import { createCa, createServerCert, type KeyPairPem } from './certificates.js'

const DAY_MS = 86_400_000

/** Where the gateway keeps its CA and its generated server certificate. */
export function tlsDir (dataDir: string): string {
  return join(dataDir, 'tls')
}

const files = (dataDir: string): Record<'caCert' | 'caKey' | 'serverCert' | 'serverKey', string> => ({
  caCert: join(tlsDir(dataDir), 'ca.crt'),
  caKey: join(tlsDir(dataDir), 'ca.key'),
  serverCert: join(tlsDir(dataDir), 'server.crt'),
  serverKey: join(tlsDir(dataDir), 'server.key')
})

/** Written beside, then renamed: a power cut leaves the old file or the new one, never half of one. Keys 0600. */
function writeAtomic (path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text, { mode })
  chmodSync(tmp, mode)
  renameSync(tmp, path)
}

/** Key first, then certificate: a certificate on disk always has its key. */
function writePair (certPath: string, keyPath: string, pair: KeyPairPem): void {
  mkdirSync(join(keyPath, '..'), { recursive: true, mode: 0o700 })
  writeAtomic(keyPath, pair.key, 0o600)
  writeAtomic(certPath, pair.cert, 0o644)
}

function readPair (certPath: string, keyPath: string): KeyPairPem | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') }
}

/** The gateway CA, made on first use (the first start, `tls export-ca` or `device add`), valid tls.caDays. */
export async function ensureCa (config: Config, now: number): Promise<KeyPairPem> {
  const f = files(config.dataDir)
  const existing = readPair(f.caCert, f.caKey)
  if (existing !== undefined) return existing
  const ca = await createCa(`AutoCore Gateway CA ${config.gatewayId}`, now, config.tls.caDays)
  mkdirSync(tlsDir(config.dataDir), { recursive: true, mode: 0o700 })
  // Two processes may make it at once (the first start and a `device add`): the key is published with link(),
  // which fails if the file exists, so one CA wins and the other process waits for the winner's certificate.
  const tmpKey = `${f.caKey}.${process.pid}.tmp`
  writeFileSync(tmpKey, ca.key, { mode: 0o600 })
  chmodSync(tmpKey, 0o600)
  try {
    linkSync(tmpKey, f.caKey)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return await theirs(f.caCert, f.caKey)
  } finally {
    unlinkSync(tmpKey)
  }
  writeAtomic(f.caCert, ca.cert, 0o644)
  return ca
}

/** The CA another process is making: its certificate follows its key within moments. */
async function theirs (certPath: string, keyPath: string): Promise<KeyPairPem> {
  for (let i = 0; i < 100; i++) {
    const pair = readPair(certPath, keyPath)
    if (pair !== undefined) return pair
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new GatewayError('GW_ERR_TLS_MATERIAL', `${keyPath} exists without its certificate ${certPath}`)
}

/** The CA certificate clients pin: the operator's tls.caFile when set, else the gateway CA. */
export async function clientCaPem (config: Config, now: number): Promise<string> {
  if (config.tls.caFile !== '') return readFileSync(config.tls.caFile, 'utf8')
  return (await ensureCa(config, now)).cert
}

/** The names in the generated server certificate: localhost, loopback, this host's name, then tls.hostnames. */
export function serverNames (config: Config): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...config.tls.hostnames])]
}

/** The SANs of a certificate, as Node prints them ("DNS:a, IP Address:1.2.3.4"), without the type. */
function sans (cert: X509Certificate): Set<string> {
  return new Set((cert.subjectAltName ?? '').split(', ').map(s => s.slice(s.indexOf(':') + 1)).filter(Boolean))
}

function ipText (name: string): string {
  // Node prints IPv6 SANs expanded and upper-case-free; compare ::1 as it prints it.
  return name === '::1' ? '0:0:0:0:0:0:0:1' : name
}

/** What the TLS listeners serve. `ca` is the CA that client certificates (mutual TLS) are verified against. */
export interface ServerMaterial {
  cert: string
  key: string
  ca: string
  source: 'generated' | 'operator'
  notAfter: number
}

/** Why a generated server certificate is replaced: undefined when it is still good. */
export function renewalReason (
  certPem: string,
  caPem: string,
  names: readonly string[],
  now: number,
  renewBeforeDays: number
): string | undefined {
  const cert = new X509Certificate(certPem)
  if (!cert.checkIssued(new X509Certificate(caPem))) return 'not issued by the gateway CA'
  if (Date.parse(cert.validTo) - now < renewBeforeDays * DAY_MS) return 'expires soon'
  const have = sans(cert)
  if (names.some(n => !have.has(ipText(n)))) return 'host names changed'
  return undefined
}

/**
 * The server certificate and key: the operator's (tls.certFile, tls.keyFile) read as they are now, or the
 * generated one, made or renewed (tls.renewBeforeDays before it expires, or when tls.hostnames changed).
 * `renewed` says why a new one was made.
 */
export async function loadServerMaterial (config: Config, now: number): Promise<ServerMaterial & { renewed?: string }> {
  const { tls } = config
  const ca = await ensureCa(config, now)
  if (tls.certFile !== '' || tls.keyFile !== '') {
    if (tls.certFile === '' || tls.keyFile === '') {
      throw new GatewayError('GW_ERR_TLS_MATERIAL', 'tls.certFile and tls.keyFile go together')
    }
    try {
      const cert = readFileSync(tls.certFile, 'utf8')
      return {
        cert,
        key: readFileSync(tls.keyFile, 'utf8'),
        ca: ca.cert,
        source: 'operator',
        notAfter: Date.parse(new X509Certificate(cert).validTo)
      }
    } catch (err) {
      throw new GatewayError('GW_ERR_TLS_MATERIAL', `cannot read tls.certFile/tls.keyFile: ${(err as Error).message}`)
    }
  }
  const f = files(config.dataDir)
  const names = serverNames(config)
  const current = readPair(f.serverCert, f.serverKey)
  const reason =
    current === undefined ? 'first start' : renewalReason(current.cert, ca.cert, names, now, tls.renewBeforeDays)
  let pair = current
  if (reason !== undefined || pair === undefined) {
    pair = await createServerCert(ca, names, now, tls.serverCertDays)
    writePair(f.serverCert, f.serverKey, pair)
  }
  const notAfter = Date.parse(new X509Certificate(pair.cert).validTo)
  return { ...pair, ca: ca.cert, source: 'generated', notAfter, ...(reason === undefined ? {} : { renewed: reason }) }
}

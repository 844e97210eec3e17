import 'reflect-metadata'
import { isIP } from 'node:net'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

// @peculiar/x509 over Node's WebCrypto: ECDSA P-256 certificates in ~14 ms each. node-forge was measured against
// it (#17) and signs only RSA certificates (RSA-2048 key and certificate: ~1 s each, too slow for an ESP32 too).
// ECDSA P-256 is what an ESP32's mbedTLS verifies and signs fastest. reflect-metadata: @peculiar/x509 needs it.
const crypto = webcrypto
x509.cryptoProvider.set(crypto as never)
type CryptoKeyPair = webcrypto.CryptoKeyPair
type CryptoKey = webcrypto.CryptoKey

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface KeyPairPem { cert: string, key: string }

function pem (label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}

async function newKeys (): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])
}

async function keyPem (keys: CryptoKeyPair): Promise<string> {
  return pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey))
}

async function importSigningKey (keyPemText: string): Promise<CryptoKey> {
  const b64 = keyPemText.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
  return await crypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), EC, false, ['sign'])
}

/** A random positive 16-byte serial number [RFC 5280 §4.1.2.2]. */
function serial (): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[0] &= 0x7f
  bytes[0] |= 0x01
  return Buffer.from(bytes).toString('hex')
}

/** Validity from a minute before `now` (clocks differ a little) to `days` after. */
function validity (now: number, days: number): { notBefore: Date, notAfter: Date } {
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * DAY_MS) }
}

/** The gateway's own CA: self-signed, may sign end-entity certificates only (pathLen 0). */
export async function createCa (commonName: string, now: number, days: number): Promise<KeyPairPem> {
  const keys = await newKeys()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }, { O: ['AutoCore Gateway'] }],
    ...validity(now, days),
    signingAlgorithm: SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  return { cert: cert.toString('pem') + '\n', key: await keyPem(keys) }
}

interface LeafOptions {
  ca: KeyPairPem
  commonName: string
  now: number
  days: number
  /** Host names and IP addresses (server) or the device UUID as a URN (client). */
  altNames: x509.JsonGeneralNames
  usage: 'server' | 'client'
}

async function createLeaf (opts: LeafOptions): Promise<KeyPairPem> {
  const keys = await newKeys()
  const caCert = new x509.X509Certificate(opts.ca.cert)
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [opts.commonName] }],
    issuer: caCert.subject,
    ...validity(opts.now, opts.days),
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(opts.ca.key),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth
      ]),
      new x509.SubjectAlternativeNameExtension(opts.altNames),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert)
    ]
  })
  return { cert: cert.toString('pem') + '\n', key: await keyPem(keys) }
}

/** The server certificate for MQTT/TLS and HTTPS: one SAN per host name or address. */
export async function createServerCert (
  ca: KeyPairPem,
  hostnames: readonly string[],
  now: number,
  days: number
): Promise<KeyPairPem> {
  const altNames = hostnames.map(h =>
    isIP(h) === 0 ? { type: 'dns' as const, value: h } : { type: 'ip' as const, value: h }
  )
  return await createLeaf({ ca, commonName: hostnames[0] ?? 'autocore-gateway', now, days, altNames, usage: 'server' })
}

/** A device's client certificate (mutual TLS): CN and SAN (urn:uuid:) are the device UUID. */
export async function createClientCert (ca: KeyPairPem, uuid: string, now: number, days: number): Promise<KeyPairPem> {
  return await createLeaf({
    ca,
    commonName: uuid,
    now,
    days,
    altNames: [{ type: 'url', value: `urn:uuid:${uuid}` }],
    usage: 'client'
  })
}

import { TLSSocket } from 'node:tls'
import type { Client } from 'aedes'
import { DEVICE_ID } from '../protocol/index.js'

/**
 * The device UUID a client certificate proves, with the certificate's serial number, for mutual TLS (#17): only
 * when the TLS layer verified the certificate against the gateway CA (socket.authorized; tls.mqtt asks for a
 * certificate without requiring one), its CN is a device id and its SAN names the same id as urn:uuid:. Whether
 * that serial is the device's current certificate and what the UUID may do are decided where every CONNECT is
 * decided, in auth/authenticate.ts.
 */
export function certificateOf (client: Client): { uuid: string, serial: string } | undefined {
  const socket = client.conn
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined
  const cert = socket.getPeerCertificate()
  const cn = cert.subject?.CN
  if (typeof cn !== 'string' || !DEVICE_ID.test(cn)) return undefined
  const sans = (cert.subjectaltname ?? '').split(', ')
  return sans.includes(`URI:urn:uuid:${cn}`) ? { uuid: cn, serial: cert.serialNumber.toUpperCase() } : undefined
}

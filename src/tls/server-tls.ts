import { randomBytes } from 'node:crypto'
import tls from 'node:tls'
import type { Config } from '../config/types.js'
import type { Clock, Timer } from '../clock.js'
import { GatewayError } from '../errors.js'
import type { Logger } from '../log.js'
import { loadServerMaterial, type ServerMaterial } from './material.js'

/**
 * TLS 1.3 session tickets live this long (TLS 1.2 sessions too): an ESP32's full ECDHE handshake costs it about a
 * second of CPU, a resumed one a fraction of that, so a device that drops off the Wi-Fi reconnects cheaply.
 */
export const SESSION_TIMEOUT_S = 7200

/**
 * What both TLS listeners serve, and the one place that changes it: the generated certificate renewed before it
 * expires, or the operator's re-read on SIGHUP. Servers take the new context with setSecureContext, which
 * applies to new handshakes only: connections already up keep theirs. The session ticket keys stay the same
 * across reloads, so a device's ticket still resumes after a renewal.
 */
export class ServerTls {
  private material: ServerMaterial
  private readonly servers: Array<{ server: tls.Server, clientCerts: boolean }> = []
  private readonly ticketKeys = randomBytes(48)
  private timer?: Timer
  /**
   * One reload at a time: a renewal check while a SIGHUP reload runs waits for it instead of making a second
   * certificate.
   */
  private reloading: Promise<void> = Promise.resolve()

  constructor (
    private readonly deps: { config: Config, clock: Clock, log: Logger },
    material: ServerMaterial
  ) {
    this.material = material
  }

  static async load (deps: { config: Config, clock: Clock, log: Logger }): Promise<ServerTls> {
    const material = await loadServerMaterial(deps.config, deps.clock.now())
    logMaterial(deps.log, material, deps.clock.now())
    return new ServerTls(deps, material)
  }

  /**
   * Options for tls.createServer/https.createServer. With clientCerts (MQTT), a client certificate is asked for
   * but not required: one the gateway CA issued authenticates its device (auth/authenticate.ts); without one, or
   * with one that does not verify, the client logs in with a password as over plain TCP.
   */
  options (clientCerts: boolean): tls.SecureContextOptions & tls.TlsOptions {
    const m = this.material
    return {
      key: m.key,
      // The generated certificate is served with its CA: a client that pins the CA by its key (a browser told
      // to trust it by SPKI, a firmware) finds it in the chain.
      cert: m.source === 'generated' ? m.cert + m.ca : m.cert,
      minVersion: 'TLSv1.2',
      sessionTimeout: SESSION_TIMEOUT_S,
      ticketKeys: this.ticketKeys,
      ...(clientCerts ? { ca: m.ca, requestCert: true, rejectUnauthorized: false } : {})
    }
  }

  /** The server certificate's expiry (ms since epoch). */
  get notAfter (): number {
    return this.material.notAfter
  }

  /** Registers a listening server to be given every new context. */
  serve (server: tls.Server, clientCerts: boolean): void {
    this.servers.push({ server, clientCerts })
  }

  /**
   * Re-reads (operator) or renews if due (generated) the certificate; connections already up are untouched. A
   * certificate or key that does not load leaves the previous one in use (GW_ERR_TLS_MATERIAL).
   */
  async reload (reason: string): Promise<void> {
    const next = this.reloading.then(async () => await this.reloadNow(reason))
    this.reloading = next.catch(() => {})
    return await next
  }

  private async reloadNow (reason: string): Promise<void> {
    const material = await loadServerMaterial(this.deps.config, this.deps.clock.now())
    if (reason === 'renewal check' && material.renewed === undefined) return
    try {
      // Checked before any server takes it: both listeners change together or not at all.
      tls.createSecureContext({ key: material.key, cert: material.cert })
    } catch (err) {
      throw new GatewayError(
        'GW_ERR_TLS_MATERIAL',
        `the new certificate or key does not load: ${(err as Error).message}`
      )
    }
    this.material = material
    for (const { server, clientCerts } of this.servers) server.setSecureContext(this.options(clientCerts))
    this.deps.log.info(
      { reason, source: material.source, notAfter: new Date(material.notAfter).toISOString() },
      'tls certificate reloaded'
    )
    logMaterial(this.deps.log, material, this.deps.clock.now())
  }

  /** Checks the generated certificate every tls.renewCheckIntervalMs; renews it when due. */
  start (): void {
    if (this.material.source !== 'generated') return
    this.timer = this.deps.clock.setInterval(() => {
      this.reload('renewal check').catch((err: Error) => this.deps.log.error({ err }, 'tls renewal failed'))
    }, this.deps.config.tls.renewCheckIntervalMs)
  }

  stop (): void {
    this.timer?.cancel()
  }
}

function logMaterial (log: Logger, m: ServerMaterial & { renewed?: string }, now: number): void {
  const notAfter = new Date(m.notAfter).toISOString()
  if (m.renewed !== undefined) log.info({ reason: m.renewed, notAfter }, 'tls server certificate made')
  if (m.notAfter <= now) {
    log.error({ notAfter, source: m.source }, 'tls server certificate has expired: clients will refuse it')
  }
}

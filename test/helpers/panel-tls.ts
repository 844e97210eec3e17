import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createCa, type KeyPairPem } from '../../src/tls/certificates.js'

// The panel's whole e2e suite runs twice (#17): as written, over HTTP/WS, and over HTTPS/WSS from
// test/e2e/panel-tls/, whose files set AUTOCORE_TEST_PANEL_TLS before importing the plain ones. In that mode the
// gateway's HTTPS listener is on, its CA is this run's test CA (seeded into the data dir, so the gateway makes its
// server certificate from it), every browser trusts that CA and every page is opened on the HTTPS port.

export function panelOverTls (): boolean {
  return process.env.AUTOCORE_TEST_PANEL_TLS === '1'
}

let ca: Promise<KeyPairPem> | undefined

/** One CA per test process: every gateway of the file signs its server certificate with it. */
export async function testCa (): Promise<KeyPairPem> {
  ca ??= createCa('AutoCore Gateway test CA', Date.now(), 30)
  return await ca
}

/** Puts the test CA where the gateway keeps its own (`<dataDir>/tls/`), before the gateway's first start. */
export async function seedTestCa (dataDir: string): Promise<void> {
  const { cert, key } = await testCa()
  const dir = join(dataDir, 'tls')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeFileSync(join(dir, 'ca.key'), key, { mode: 0o600 })
  chmodSync(join(dir, 'ca.key'), 0o600)
  writeFileSync(join(dir, 'ca.crt'), cert, { mode: 0o644 })
}

import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ensureCa, renewalReason } from '../../src/tls/material.js'
import { createCa, createServerCert } from '../../src/tls/certificates.js'
import { testConfig } from '../helpers/app.js'

const DAY_MS = 86_400_000

t.test('processes making the CA at once end with one CA whose key matches its certificate', async t => {
  const config = testConfig(t.testdir())
  const made = await Promise.all(Array.from({ length: 6 }, async () => await ensureCa(config, Date.now())))
  const first = made[0]
  t.ok(made.every(m => m.cert === first.cert && m.key === first.key), 'every caller got the same CA')
  const onDisk = await ensureCa(config, Date.now())
  t.equal(onDisk.cert, first.cert)
  const pub = createPublicKey(createPrivateKey(onDisk.key)).export({ type: 'spki', format: 'der' })
  t.same(
    pub,
    new X509Certificate(onDisk.cert).publicKey.export({ type: 'spki', format: 'der' }),
    'the key on disk is the certificate\'s'
  )
  t.same(readdirSync(join(config.dataDir, 'tls')).sort(), ['ca.crt', 'ca.key'], 'no temporary file left')
})

t.test('renewalReason: due, other CA, changed names, or nothing', async t => {
  const now = Date.now()
  const ca = await createCa('ca', now, 3650)
  const cert = await createServerCert(ca, ['localhost', '127.0.0.1', '::1'], now, 60)
  t.equal(renewalReason(cert.cert, ca.cert, ['localhost', '127.0.0.1', '::1'], now, 30), undefined)
  t.equal(renewalReason(cert.cert, ca.cert, ['localhost', '127.0.0.1', '::1'], now + 31 * DAY_MS, 30), 'expires soon')
  t.equal(renewalReason(cert.cert, ca.cert, ['localhost', 'gateway.local'], now, 30), 'host names changed')
  t.equal(
    renewalReason(cert.cert, (await createCa('other', now, 10)).cert, ['localhost'], now, 30),
    'not issued by the gateway CA'
  )
})

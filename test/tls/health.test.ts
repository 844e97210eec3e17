import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../../src/cli/index.js'
import { createCa } from '../../src/tls/certificates.js'
import { startApp, type RunningApp } from '../helpers/app.js'

// #17: `health` over the TLS listeners verifies the gateway against the CA its clients pin, not the system's.

async function health (env: Record<string, string>, args: string[]): Promise<{ code: number, lines: string[] }> {
  const lines: string[] = []
  const code = await runCli(
    ['node', 'autocore-gateway', 'health', ...args],
    { env, out: l => lines.push(l), err: l => lines.push(l) },
    { once: () => {} }
  )
  return { code, lines }
}

function envOf (app: RunningApp): Record<string, string> {
  return {
    AUTOCORE_DATA_DIR: app.config.dataDir,
    AUTOCORE_TLS_HTTPS_PORT: String(app.gateway.tlsPorts.https),
    AUTOCORE_TLS_MQTT_PORT: String(app.gateway.tlsPorts.mqtt)
  }
}

t.test('health --tls: /health over HTTPS and the MQTT round-trip over mqtts://, verified against the gateway ' +
  'CA', async t => {
  const app = await startApp(t, {
    config: {
      tls: { mqtt: { enabled: true, port: 0, host: '127.0.0.1' }, https: { enabled: true, port: 0, host: '127.0.0.1' } }
    }
  })
  const ok = await health(envOf(app), ['--tls'])
  t.equal(ok.code, 0, ok.lines.join('\n'))
  t.match(ok.lines[0], /^ok: http \d+ms, mqtt round-trip \d+ms, db ok$/)
  const wss = await health(envOf(app), ['--json', '--url', `https://localhost:${app.gateway.tlsPorts.https ?? 0}`, '--mqtt-url', `wss://localhost:${app.gateway.tlsPorts.https ?? 0}/mqtt`])
  t.match(JSON.parse(wss.lines.join('\n')), { ok: true, url: /^https:/, mqttUrl: /^wss:/ }, 'and over wss://')

  // A gateway that cannot prove itself against the pinned CA fails the check.
  const other = await createCa('someone else', Date.now(), 30)
  const caFile = join(app.config.dataDir, 'other-ca.crt')
  writeFileSync(caFile, other.cert)
  const bad = await health({ ...envOf(app), AUTOCORE_TLS_CA_FILE: caFile }, ['--tls', '--timeout', '3000'])
  t.equal(bad.code, 1)
  t.match(
    bad.lines[0],
    /^failed: http: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE); mqtt: .*(self-signed|unable to verify)/
  )
})

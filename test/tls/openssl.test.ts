import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startApp } from '../helpers/app.js'
import { clientCaPem } from '../../src/tls/material.js'
import { connectPacket } from '../helpers/raw-mqtt.js'

// #17 acceptance 2: Debian's openssl s_client against the TLS listeners: TLS 1.3 negotiated and verified against the
// gateway CA, TLS 1.2 accepted, TLS 1.0 and 1.1 refused by the gateway, and sessions resumed (1.3 and 1.2).

interface SClient { code: number, out: string }

/** Runs `openssl s_client` with stdin closed at once; never rejects (a refused handshake exits non-zero). */
async function sClient (args: string[], input: string | Buffer = ''): Promise<SClient> {
  return await new Promise(resolve => {
    const child = execFile('openssl', ['s_client', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), out: stdout + stderr })
    })
    child.stdin?.end(input)
  })
}

t.test('openssl s_client: TLS 1.3 verified, 1.2 accepted, 1.0/1.1 refused, sessions resumed', async t => {
  const app = await startApp(t, {
    config: {
      tls: { mqtt: { enabled: true, port: 0, host: '127.0.0.1' }, https: { enabled: true, port: 0, host: '127.0.0.1' } }
    }
  })
  const caFile = join(app.config.dataDir, 'exported-ca.crt')
  writeFileSync(caFile, await clientCaPem(app.config, Date.now()))
  for (const [name, port] of [['mqtts', app.gateway.tlsPorts.mqtt], ['https', app.gateway.tlsPorts.https]] as const) {
    const target = [
      '-connect',
      `127.0.0.1:${port ?? 0}`,
      '-servername',
      'localhost',
      '-CAfile',
      caFile,
      '-verify_return_error'
    ]
    const v13 = await sClient([...target, '-verify_hostname', 'localhost'])
    t.equal(v13.code, 0, `${name}: handshake ok`)
    t.match(v13.out, /New, TLSv1\.3, Cipher is TLS_/, `${name}: TLS 1.3 negotiated`)
    t.match(v13.out, /Verify return code: 0 \(ok\)/, `${name}: verified against the gateway CA`)
    t.match(v13.out, /Peer signature type: ECDSA|Server public key is 256 bit/, `${name}: an ECDSA P-256 certificate`)

    const v12 = await sClient([...target, '-tls1_2'])
    t.match(v12.out, /New, TLSv1\.2, Cipher is ECDHE-ECDSA-/, `${name}: TLS 1.2 accepted (ECDHE-ECDSA)`)

    // SECLEVEL=0 lets this openssl offer TLS 1.0/1.1 at all, so the refusal shown is the gateway's.
    for (const old of ['-tls1', '-tls1_1']) {
      const r = await sClient([...target, old, '-cipher', 'DEFAULT@SECLEVEL=0'])
      t.not(r.code, 0, `${name}: ${old} refused`)
      t.match(
        r.out,
        /alert protocol version|unsupported protocol|wrong version number/,
        `${name}: ${old} refused with a protocol version alert`
      )
      t.notMatch(r.out, /New, TLSv1(\.1)?, Cipher is/, `${name}: no ${old} session`)
    }

    for (const version of ['-tls1_3', '-tls1_2']) {
      const sess = join(app.config.dataDir, `${name}${version}.sess`)
      // A request is sent, as a client would, and s_client waits for the answer (and the TLS 1.3 ticket with it):
      // over HTTPS a GET, over MQTT an anonymous CONNECT, refused with CONNACK 5 and closed.
      const request =
        name === 'https' ? 'GET /health HTTP/1.0\r\n\r\n' : connectPacket({ clientId: 'openssl', clean: true })
      const first = await sClient([...target, version, '-sess_out', sess, '-ign_eof'], request)
      t.match(first.out, /\nNew, TLSv1\.[23]/, `${name} ${version}: a full handshake first`)
      const again = await sClient([...target, version, '-sess_in', sess, '-ign_eof'], request)
      t.match(again.out, /\nReused, TLSv1\.[23]/, `${name} ${version}: the session is resumed`)
    }
  }
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startApp, type RunningApp } from '../../helpers/app.js'
import { launchBrowser, openPanel, showView } from '../../helpers/browser.js'
import { createCa } from '../../../src/tls/certificates.js'

// #17: the panel over HTTPS, its live link over WSS, in Chromium that trusts the gateway CA (by its key, see
// trustCaArgs) with certificate errors otherwise enforced.

t.setTimeout(300_000)

async function tlsApp (t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<{ app: RunningApp, ca: string }> {
  const app = await startApp(t, { config: { tls: { https: { enabled: true, port: 0, host: '127.0.0.1' } } } })
  const ca = readFileSync(join(app.config.dataDir, 'tls', 'ca.crt'), 'utf8')
  // The panel's pages and its MQTT link (wss://, from location.protocol) come from the HTTPS port.
  return { app: { ...app, panelUrl: `https://localhost:${app.gateway.tlsPorts.https ?? 0}` }, ca }
}

t.test('the panel over HTTPS logs in, its live link runs over WSS, and events arrive live', async t => {
  const { app, ca } = await tlsApp(t)
  const browser = await launchBrowser(t, { trustCa: ca })
  const { page } = await openPanel(t, browser, app, 'viewer')
  t.equal(await page.evaluate(() => location.protocol), 'https:')
  const resources = await page.evaluate(() => performance.getEntriesByType('resource').map(e => e.name))
  t.ok(resources.every(u => u.startsWith('https://')), 'every resource came over HTTPS')
  await showView(page, 'events')
  await app.gateway.services.events.log({ level: 'error', type: 'panel_tls_live', source: 'test' })
  await page.waitForSelector('.event[data-type=panel_tls_live]')
  t.pass('an event reached the panel over wss://')
})

t.test('a browser that does not trust the gateway CA, or trusts another, refuses the panel', async t => {
  const { app } = await tlsApp(t)
  const other = await createCa('not the gateway', Date.now(), 30)
  for (const [what, browser] of [
    ['no CA', await launchBrowser(t)],
    ['another CA', await launchBrowser(t, { trustCa: other.cert })]
  ] as const) {
    const page = await browser.newPage()
    const error = await page.goto(app.panelUrl + '/').then(() => 'loaded', (err: Error) => err.message)
    t.match(error, /ERR_CERT_AUTHORITY_INVALID/, `${what}: certificate refused`)
    await page.close()
  }
})

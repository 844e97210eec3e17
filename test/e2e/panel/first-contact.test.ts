import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { gatewayEnv, runGateway } from '../../helpers/process.js'
import { waitFor } from '../../helpers/mqtt.js'
import { LARGE, UI_TIMEOUT_MS, launchBrowser, logIn, screenshot, showView } from '../../helpers/browser.js'
import { panelOverTls, seedTestCa } from '../../helpers/panel-tls.js'

// The README's first ten minutes (issue #16): `npm start` (the real process), `autocore-gateway simulate` (the
// real process) beside it, the panel in Chromium logged in with the initial admin password: the simulated devices
// online, live telemetry, a relay switched from the panel and confirmed by the simulated board's own report.

t.setTimeout(300_000)
const browser = await launchBrowser(t)

t.test('npm start + simulate: devices online, live telemetry, a relay toggled from the panel confirmed by its ' +
  'board', async t => {
  const dataDir = t.testdir()
  // Over TLS (test/e2e/panel-tls/) the panel is opened on the HTTPS port, its certificate made from the test CA.
  const tls = panelOverTls()
  if (tls) await seedTestCa(dataDir)
  const https = {
    AUTOCORE_TLS_HTTPS_ENABLED: 'true', AUTOCORE_TLS_HTTPS_PORT: '0', AUTOCORE_TLS_HTTPS_HOST: '127.0.0.1'
  }
  const gw = runGateway(t, ['start'], gatewayEnv(dataDir, tls ? https : {}))
  const { mqttPort, httpPort, httpsPort } = await gw.waitForLog('gateway started')
  const panelUrl = tls ? `https://localhost:${String(httpsPort)}` : `http://127.0.0.1:${String(httpPort)}`
  const password = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim()

  const started = Date.now()
  const sim = runGateway(t, ['simulate', '--mqtt-url', `mqtt://127.0.0.1:${String(mqttPort)}`], {
    AUTOCORE_DATA_DIR: dataDir
  })
  t.teardown(() => { sim.child.kill('SIGINT') })
  // As the README tells it: the simulator is running (its boards provisioned) when the panel is opened.
  await waitFor(() => sim.stdout.some(l => l.startsWith('simulating 4 devices')), UI_TIMEOUT_MS)
  const simulating = Date.now() - started

  const context = await browser.newContext({ viewport: LARGE })
  t.teardown(() => context.close().catch(() => {}))
  const page = await context.newPage()
  page.setDefaultTimeout(UI_TIMEOUT_MS)
  page.on('pageerror', err => t.fail(`panel error: ${err.message}`))
  await page.goto(`${panelUrl}/`)
  await logIn(page, 'admin', password)
  const loggedIn = Date.now() - started

  await showView(page, 'devices')
  for (const uuid of ['sim-sensors-1', 'sim-relays-1', 'sim-display-1', 'sim-estop-1']) {
    await page.waitForSelector(`.device[data-uuid="${uuid}"][data-status=online]`)
  }
  const online = Date.now() - started
  await showView(page, 'telemetry')
  await page.click('.chip[data-uuid="sim-sensors-1"]')
  await page.waitForSelector('[data-key=rpm] .chart-line')
  await page.waitForSelector('[data-key=coolant_temp] .chart-line')
  const telemetry = Date.now() - started

  // The board's own report, seen by a second admin session: the relay state is the simulated board's word.
  const token = await (await fetch(`http://127.0.0.1:${String(httpPort)}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })).json() as { token: string }
  const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${String(mqttPort)}`, {
    username: 'admin',
    password: token.token,
    reconnectPeriod: 0
  })
  t.teardown(() => watcher.end(true))
  const reports: Array<Record<string, boolean>> = []
  watcher.on('message', (_topic, payload) =>
    reports.push((JSON.parse(payload.toString()) as { channels: Record<string, boolean> }).channels)
  )
  await watcher.subscribeAsync('autocore/relays/sim-relays-1/state', { qos: 1 })
  await waitFor(() => reports.length > 0, UI_TIMEOUT_MS)
  t.equal(reports.at(-1)?.['1'], false, 'the headlights start off')

  await showView(page, 'relays')
  const headlights = '.relay[data-uuid="sim-relays-1"][data-channel="1"]'
  await page.click(`${headlights} [data-testid=relay-toggle]`)
  await waitFor(() => reports.at(-1)?.['1'] === true, UI_TIMEOUT_MS)
  await page.waitForSelector(`${headlights}[data-state=on]`)
  const relay = Date.now() - started
  t.pass('the simulated board reported the headlights on, and the panel shows them on')
  t.comment(
    `from simulate's start: its boards connected ${simulating} ms, panel logged in ${loggedIn} ms, devices ` +
      `online ${online} ms, telemetry charted ${telemetry} ms, relay confirmed ${relay} ms`
  )

  // The picture of the README: the relays of the simulated vehicle, the headlights on.
  await screenshot(page, 'first-contact-relays')
  await showView(page, 'telemetry')
  await page.click('.chip[data-uuid="sim-sensors-1"]')
  await page.waitForSelector('[data-key=rpm] .chart-line')
  await screenshot(page, 'first-contact-telemetry')

  sim.child.kill('SIGINT')
  t.same(await sim.exited, { code: 0, signal: null }, 'simulate stops cleanly on Ctrl-C')
  await showView(page, 'devices')
  await page.waitForSelector('.device[data-uuid="sim-relays-1"][data-status=offline]')
  gw.child.kill('SIGTERM')
  t.same(await gw.exited, { code: 0, signal: null })
})

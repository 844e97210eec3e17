import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { FakeClock } from '../../helpers/fake-clock.js'
import { createUser, deviceClient } from '../../helpers/devices.js'
import { LARGE, launchBrowser, logIn, newPanelPage, offlineWill, openPanel, showView } from '../../helpers/browser.js'

// The browser panel end to end (issue #7): Debian's Chromium driven by playwright-core against the real gateway on
// port 0, simulated ESP32 devices on real sockets. Every wait is for a condition (generous timeouts, no sleeps).

// Browser tests take longer than the suite's per-file default on a loaded 2-core machine.
t.setTimeout(300_000)
const browser = await launchBrowser(t)

t.test('log in; a device shows online, its telemetry arrives live, and it shows offline when its socket ' +
  'dies', async t => {
  const app = await startApp(t)
  const uuid = randomUUID()
  const { client } = await deviceClient(t, app, {
    uuid,
    name: 'Engine sensors',
    type: 'sensor',
    mqtt: { will: offlineWill(uuid) }
  })
  const { page } = await openPanel(t, browser, app, 'operator')
  t.equal(await page.textContent('[data-testid=role]'), 'operator', 'the header names the role')
  t.equal(await page.textContent('[data-link]'), 'Live', 'the connection state is shown plainly')

  await showView(page, 'devices')
  const row = `.device[data-uuid="${uuid}"]`
  await page.waitForSelector(`${row}[data-status=online]`)

  await showView(page, 'telemetry')
  await client.publishAsync(
    `autocore/devices/${uuid}/telemetry`,
    JSON.stringify({ coolant: { value: 87.25, unit: '°C' }, rpm: 2150 }),
    { qos: 1 }
  )
  await page.waitForFunction(
    () => document.querySelector('[data-key=coolant] [data-testid=metric-value]')?.textContent === '87.25'
  )
  t.equal(await page.textContent('[data-key=rpm] [data-testid=metric-value]'), '2150', 'every key of the message shows')
  t.match(await page.textContent('[data-key=coolant]'), /°C/, 'with its unit')
  await client.publishAsync(`autocore/devices/${uuid}/telemetry`, JSON.stringify({ coolant: 88.5 }), { qos: 1 })
  await page.waitForFunction(
    () => document.querySelector('[data-key=coolant] [data-testid=metric-value]')?.textContent === '88.50'
  )
  t.ok(await page.$('[data-key=coolant] .chart-line'), 'a chart of the last hour is drawn for the key')

  client.stream.destroy()
  await showView(page, 'devices')
  await page.waitForSelector(`${row}[data-status=offline]`)
  t.pass('the device shows offline once its socket died (its Last Will)')
})

t.test('the device list names each device with its type and firmware (GET /api/v1/devices)', async t => {
  const app = await startApp(t)
  const uuid = randomUUID()
  const { client } = await deviceClient(t, app, { uuid, name: 'Engine sensors', type: 'sensor' })
  await client.publishAsync(
    `autocore/devices/${uuid}/announce`,
    JSON.stringify({ type: 'sensor', firmware: '2.4.1' }),
    { qos: 1 }
  )
  const { page } = await openPanel(t, browser, app, 'viewer')
  await showView(page, 'devices')
  const row = `.device[data-uuid="${uuid}"]`
  await page.waitForSelector(`${row}[data-status=online]`)
  await page.waitForFunction(sel => /Engine sensors/.test(document.querySelector(sel)?.textContent ?? ''), row)
  t.match(await page.textContent(row), /sensor/, 'its type')
  t.match(await page.textContent(row), /2\.4\.1/, 'its firmware')
  t.equal(await page.$('.device .placeholder-error, .placeholder-error'), null, 'no error placeholder')
})

t.test('the chart starts with the last hour from the series API and keeps updating live', async t => {
  const app = await startApp(t)
  const uuid = randomUUID()
  const { client } = await deviceClient(t, app, { uuid, type: 'sensor' })
  const now = Date.now()
  // Readings of the past 50 minutes, stamped with their time (`ts`), before the panel opens.
  for (let m = 50; m >= 5; m -= 5) {
    await client.publishAsync(
      `autocore/devices/${uuid}/telemetry`,
      JSON.stringify({ battery: { value: 12 + m / 100, unit: 'V' }, ts: now - m * 60_000 }),
      { qos: 1 }
    )
  }
  const { page } = await openPanel(t, browser, app, 'viewer')
  await showView(page, 'telemetry')
  await page.click(`.chip[data-uuid="${uuid}"]`)
  await page.waitForSelector('[data-key=battery] .chart-line')
  const segments = async (): Promise<number> =>
    await page.$eval(
      '[data-key=battery] .chart-line',
      el => (el.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length
    )
  t.ok(await segments() >= 10, 'one point per minute bucket of history')
  t.equal(
    await page.textContent('[data-key=battery] [data-testid=metric-value]'),
    '12.05',
    'the latest value from GET /telemetry/:uuid/latest'
  )
  const before = await segments()
  await client.publishAsync(`autocore/devices/${uuid}/telemetry`, JSON.stringify({ battery: 13.9 }), { qos: 1 })
  await page.waitForFunction(
    () => document.querySelector('[data-key=battery] [data-testid=metric-value]')?.textContent === '13.90'
  )
  await page.waitForFunction(
    n =>
      (document.querySelector('[data-key=battery] .chart-line')?.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean)
        .length > n,
    before
  )
  t.pass('a live reading extends the chart')
})

t.test('a wrong password is refused on the form; an expired token sends the panel back to login', async t => {
  // Tokens live at least 60 s; a gateway clock 50 s behind makes this one expire 10 s from now on the browser's clock.
  const clock = new FakeClock(Date.now() - 50_000)
  const app = await startApp(t, { config: { auth: { jwtExpiresInS: 60 } }, clock })
  const { username, password } = await createUser(app, { role: 'operator' })
  const page = await newPanelPage(t, browser, app, LARGE)
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', 'not-the-password')
  await page.click('button[type=submit]')
  await page.waitForSelector('.form-error')
  t.match(await page.textContent('.form-error'), /Wrong user name or password/)
  // The fake clock stands still: set it 50 s behind right before the login.
  clock.advance(Math.max(0, Date.now() - 50_000 - clock.now()))
  await logIn(page, username, password)
  // The panel logs out by itself when the token expires, and says why.
  await page.waitForSelector('.login .notice')
  t.match(await page.textContent('.login .notice'), /expired/)
  t.equal(await page.evaluate(() => localStorage.getItem('autocore.session')), null, 'the stored session is gone')
})

t.test('a dropped connection shows as reconnecting, then live again (backoff)', async t => {
  const app = await startApp(t)
  const { page, username } = await openPanel(t, browser, app, 'viewer')
  const aedes = app.gateway.services.broker.aedes
  const panelClient = (): { close: () => void } | undefined =>
    Object.values((aedes as unknown as { clients: Record<string, { id: string, close: () => void }> }).clients).find(
      c => c.id.startsWith(`panel-${username}-`)
    )
  panelClient()?.close()
  await page.waitForSelector('[data-link=reconnecting]')
  t.match(await page.textContent('[data-link]'), /Reconnecting/)
  await page.waitForSelector('[data-link=online]')
  t.ok(panelClient(), 'connected again')
})

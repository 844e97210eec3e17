import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { simBoardAt } from '../../helpers/boards.js'
import { newPanelPage, launchBrowser, logIn, openPanel, showView } from '../../helpers/browser.js'
import { createUser, login } from '../../helpers/devices.js'

// The admin's Setup view, devices part (issue #20): add (the secret shown once, a provisioning block and its QR
// code), a board that connects with what the page showed, enable/disable, a new secret, the device config, delete;
// the API's validation errors on their fields; a second admin sees each change live; viewers and operators never
// see the view and the routes refuse them.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

interface Shown { gateway: string, port: number, uuid: string, secret: string }

t.test('viewers and operators see no Setup, and the device admin routes answer them 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const { page } = await openPanel(t, browser, app, role)
    await page.waitForSelector('.nav-item[data-view=devices]')
    t.equal(await page.$('.nav-item[data-view=setup]'), null, `${role}: no Setup in the menu`)
    await page.evaluate(() => { location.hash = '#/setup' })
    await page.waitForSelector('[data-testid=view-setup]')
    t.equal(await page.$('[data-testid=device-add]'), null, `${role}: #/setup shows none of it`)
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/devices', { name: 'x', type: 'sensor' }), 403, `${role}: add`)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/devices/some-board/rotate-secret'), 403, `${role}: new secret`)
    const config = { config: {} }
    t.equal(await statusAs(app.httpUrl, token, 'PUT', '/devices/some-board/config', config), 403, `${role}: config`)
    t.equal(await statusAs(app.httpUrl, token, 'DELETE', '/devices/some-board'), 403, `${role}: delete`)
  }
})

t.test('Setup: field errors, secret shown once, connect with it, disable, new secret, config, delete', async t => {
  const { page } = await openPanel(t, browser, app, 'admin')
  const other = await openPanel(t, browser, app, 'admin')
  await showView(page, 'setup')
  await showView(other.page, 'setup')

  // The API's 400 names the field; the page shows the message under that field.
  await page.fill('[data-testid=device-add] input[name=uuid]', 'Not A UUID!')
  await page.click('[data-testid=device-add-submit]')
  await page.waitForSelector('[data-field="/name"] .field-error')
  await page.waitForSelector('[data-field="/uuid"] .field-error')
  t.equal(await page.getAttribute('[data-field="/name"] input', 'aria-invalid'), 'true', 'the field is marked invalid')
  t.equal(await page.$('[data-field="/type"] .field-error'), null, 'a valid field shows no error')

  await page.fill('[data-testid=device-add] input[name=name]', 'Front board')
  await page.fill('[data-testid=device-add] input[name=uuid]', 'front-board-1')
  await page.click('[data-testid=device-add-submit]')
  await page.waitForSelector('[data-testid=provisioning]')
  const shown = JSON.parse(await page.textContent('[data-testid=provisioning-text]') ?? '{}') as Shown
  const gateway = new URL(app.panelUrl).hostname
  t.match(shown, { uuid: 'front-board-1', gateway, secret: /^.{16,}$/ }, 'the provisioning block')
  t.ok(await page.$('[data-testid=provisioning-qr] path'), 'with its QR code')
  await checkA11y(t, page, 'Setup with a provisioning block')
  await checkLayouts(t, page, 'setup', 'admin-setup')

  // A second admin sees the new device at once; the board connects with the secret the page showed.
  const row = '.device-row[data-uuid="front-board-1"]'
  await other.page.waitForSelector(row)
  const board = await simBoardAt(t, app.mqttUrl, { uuid: shown.uuid, secret: shown.secret, channels: [1, 2] })
  await page.waitForSelector(`${row}[data-status=online]`)
  t.pass('the board connected with the secret the page showed')

  await page.click('[data-testid=provisioning-close]')
  t.equal(await page.$('[data-testid=provisioning]'), null, 'the secret is gone once closed')

  await page.click(`${row} [data-testid=device-enable]`)
  await other.page.waitForSelector(`${row}[data-enabled=false]`)
  t.pass('disabled, and the second admin sees it')
  await page.click(`${row} [data-testid=device-enable]`)
  await page.waitForSelector(`${row}[data-enabled=true]`)

  await page.click(`${row} [data-testid=device-rotate]`)
  await page.waitForSelector('[data-testid=provisioning]')
  const rotated = JSON.parse(await page.textContent('[data-testid=provisioning-text]') ?? '{}') as Shown
  t.not(rotated.secret, shown.secret, 'a new secret, shown once')
  board.stop()
  await simBoardAt(t, app.mqttUrl, { uuid: shown.uuid, secret: rotated.secret, channels: [1, 2] })
  await page.waitForSelector(`${row}[data-status=online]`)
  t.pass('the board connects with the new secret')
  await page.click('[data-testid=provisioning-close]')

  await page.click(`${row} [data-testid=device-config-open]`)
  await page.waitForSelector('[data-testid=config-pushed]:has-text("v")')
  const before = await page.textContent('[data-testid=config-pushed]')
  await page.fill('[data-testid=device-config] textarea', '{"brightness": ')
  await page.click('[data-testid=config-save]')
  await page.waitForSelector('[data-field="/config"] .field-error')
  t.pass('a config that is not JSON: the error on the field, nothing sent')
  await page.fill('[data-testid=device-config] textarea', '{"brightness": 70}')
  await page.click('[data-testid=config-save]')
  await page.waitForFunction(b => document.querySelector('[data-testid=config-pushed]')?.textContent !== b, before)
  t.not(await page.textContent('[data-testid=config-pushed]'), before, 'the pushed version moved on')
  t.match(await page.textContent('[data-testid=config-applied]'), /Applied/, 'beside the applied version')

  await page.click(`${row} [data-testid=device-delete]`)
  await page.click(`${row} [data-testid=device-delete]`)
  await other.page.waitForSelector(row, { state: 'detached' })
  t.pass('deleted; the second admin sees it go')
})

t.test('an admin logs in from the login page and finds Setup and System in the menu', async t => {
  const u = await createUser(app, { role: 'admin' })
  const page = await newPanelPage(t, browser, app)
  await logIn(page, u.username, u.password)
  t.ok(await page.$('.nav-item[data-view=setup]'))
  t.ok(await page.$('.nav-item[data-view=system]'))
})

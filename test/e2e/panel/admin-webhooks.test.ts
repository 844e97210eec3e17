import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { launchBrowser, openPanel, showView } from '../../helpers/browser.js'
import { createUser, login } from '../../helpers/devices.js'
import { startReceiver, until } from '../../helpers/webhook-receiver.js'

// The Setup view's webhooks (issue #20): add (the API's 400 on its field), a test delivery that reaches a real
// receiver, the delivery log, disable; viewers and operators refused.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

t.test('viewers and operators: the webhook routes answer 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    t.equal(await statusAs(app.httpUrl, token, 'GET', '/webhooks'), 403, `${role}: list`)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/webhooks/1/test'), 403, `${role}: test delivery`)
  }
})

t.test('webhooks: field error, add, test delivery received and logged, disable', async t => {
  const receiver = await startReceiver(t)
  const { page } = await openPanel(t, browser, app, 'admin')
  await showView(page, 'setup')
  await page.click('[data-tab=webhooks]')
  const add = '[data-testid=webhook-add]'
  await page.fill(`${add} [name=url]`, 'ftp://nowhere')
  await page.click('[data-testid=webhook-add-submit]')
  await page.waitForSelector(`${add} [data-field="/url"] .field-error`)
  t.pass('a URL that is not http(s): the error on the URL')
  await page.fill(`${add} [name=url]`, receiver.url)
  await page.fill(`${add} [name=events]`, 'device_*')
  await page.click('[data-testid=webhook-add-submit]')
  const row = '.webhook-row'
  await page.waitForSelector(row)
  await page.click(`${row} [data-testid=webhook-test]`)
  await until(() => receiver.hits.some(h => h.json?.event?.type === 'webhook_test'), 20_000)
  t.pass('the test delivery reached the receiver')
  await page.waitForSelector(`${row} [data-delivery][data-status=delivered]`)
  t.pass('and shows delivered in the log')
  await page.click(`${row} [data-testid=webhook-enable]`)
  await page.waitForSelector(`${row}[data-enabled=false]`)

  await checkA11y(t, page, 'Setup: webhooks')
  await checkLayouts(t, page, 'setup', 'admin-webhooks')
})

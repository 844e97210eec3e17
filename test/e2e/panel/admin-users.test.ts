import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { launchBrowser, logIn, newPanelPage, showView } from '../../helpers/browser.js'
import { createUser, login } from '../../helpers/devices.js'

// The Setup view's users (issue #20): the initial admin password changed from the page, users added with a role,
// their role changed, disabled, a new password; the API's 400 on its field; viewers and operators refused.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

async function loginStatus (username: string, password: string): Promise<number> {
  const res = await fetch(`${app.httpUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password })
  })
  await res.arrayBuffer()
  return res.status
}

t.test('viewers and operators: the user admin routes answer 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    const body = { username: 'x-user', password: 'long enough password', role: 'admin' }
    t.equal(await statusAs(app.httpUrl, token, 'GET', '/users'), 403, `${role}: list`)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/users', body), 403, `${role}: add`)
    t.equal(await statusAs(app.httpUrl, token, 'PATCH', '/users/admin', { role: 'viewer' }), 403, `${role}: role`)
  }
})

t.test('users: the initial password changed, field errors, add, role, disable, new password', async t => {
  const initial = readFileSync(join(app.config.dataDir, 'initial-admin-password'), 'utf8').trim()
  const page = await newPanelPage(t, browser, app)
  await logIn(page, 'admin', initial)
  await showView(page, 'setup')
  await page.click('[data-tab=users]')
  const me = '.user-row[data-user=admin]'
  await page.waitForSelector(me)
  await page.fill(`${me} [name=password]`, 'short')
  await page.click(`${me} [data-testid=user-password]`)
  await page.waitForSelector(`${me} [data-field="/password"] .field-error`)
  t.pass('a password too short: the error on the password field')
  await page.fill(`${me} [name=password]`, 'a much better admin password')
  await page.click(`${me} [data-testid=user-password]`)
  // A new password ends the sessions made with the old one, this page's too: it asks for the new password.
  await page.waitForSelector('.login input[name=username]')
  t.equal(await loginStatus('admin', initial), 401, 'the initial password no longer works')
  await logIn(page, 'admin', 'a much better admin password')
  await showView(page, 'setup')
  await page.click('[data-tab=users]')

  const add = '[data-testid=user-add]'
  await page.fill(`${add} [name=username]`, 'bad name!')
  await page.fill(`${add} [name=password]`, 'x')
  await page.click('[data-testid=user-add-submit]')
  await page.waitForSelector(`${add} [data-field="/username"] .field-error`)
  await page.waitForSelector(`${add} [data-field="/password"] .field-error`)
  t.pass('both bad fields named')
  await page.fill(`${add} [name=username]`, 'driver')
  await page.fill(`${add} [name=password]`, 'driver password 1')
  await page.selectOption(`${add} [name=role]`, 'operator')
  await page.click('[data-testid=user-add-submit]')
  const driver = '.user-row[data-user=driver]'
  await page.waitForSelector(`${driver}[data-role=operator]`)
  t.ok(await login(app, 'driver', 'driver password 1'), 'the new user logs in')

  await page.selectOption(`${driver} [name=role]`, 'viewer')
  await page.waitForSelector(`${driver}[data-role=viewer]`)
  await page.click(`${driver} [data-testid=user-enable]`)
  await page.waitForSelector(`${driver}[data-enabled=false]`)
  t.equal(await loginStatus('driver', 'driver password 1'), 401, 'a disabled user cannot log in')

  await checkA11y(t, page, 'Setup: users')
  await checkLayouts(t, page, 'setup', 'admin-users')
})

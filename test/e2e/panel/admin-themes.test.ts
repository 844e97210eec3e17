import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { launchBrowser, openPanel, showView } from '../../helpers/browser.js'
import { createUser, deviceClient, login } from '../../helpers/devices.js'
import { waitFor } from '../../helpers/mqtt.js'

// The Setup view's themes (issue #20): colours and base size with a live preview per device type, saved with one
// request, activated: a display receives it on the retained autocore/config/theme.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

t.test('viewers and operators: the theme admin routes answer 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/themes', { name: 'x', colors: { primary: '#000' } }), 403)
    t.equal(await statusAs(app.httpUrl, token, 'PATCH', '/themes/1', { name: 'y' }), 403, `${role}: edit`)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/themes/1/activate'), 403, `${role}: activate`)
  }
})

t.test('themes: field errors, live preview, save, activate; a display receives the theme', async t => {
  const { client } = await deviceClient(t, app, { type: 'display', capabilities: ['display'] })
  const themes: Array<{ name?: string, colors?: Record<string, string> }> = []
  client.on('message', (topic, payload) => {
    if (topic === 'autocore/config/theme') themes.push(JSON.parse(payload.toString()))
  })
  await client.subscribeAsync('autocore/config/theme', { qos: 1 })

  const { page } = await openPanel(t, browser, app, 'admin')
  await showView(page, 'setup')
  await page.click('[data-tab=themes]')
  await page.waitForSelector('[data-testid=theme-new]')
  await page.click('[data-testid=theme-new-submit]')
  await page.waitForSelector('[data-testid=theme-new] [data-field="/name"] .field-error')
  t.pass('a theme without a name: the error on the name')
  await page.fill('[data-testid=theme-new] [name=theme-name]', 'Night drive')
  await page.click('[data-testid=theme-new-submit]')
  await page.waitForSelector('[data-testid=theme-editor]:has-text("Night drive")')

  const editor = '[data-testid=theme-editor]'
  await page.fill(`${editor} [name=color-primary]`, 'blue')
  await page.click('[data-testid=theme-save]')
  await page.waitForSelector(`${editor} [data-field="/colors/primary"] .field-error`)
  t.pass('a colour that is not a hex colour: the error on that colour')
  await page.fill(`${editor} [name=color-primary]`, '#ff8800')
  const btn = '[data-preview=display] .theme-preview-btn'
  t.equal(await page.$eval(btn, el => getComputedStyle(el).backgroundColor), 'rgb(255, 136, 0)', 'the preview follows')
  await page.fill(`${editor} [name=size_base]`, '20')
  t.equal(await page.$eval('[data-preview=panel]', el => getComputedStyle(el).fontSize), '20px', 'sizes too')
  await page.click('[data-testid=theme-save]')
  await page.waitForSelector('[data-testid=theme-activate]')
  await page.click('[data-testid=theme-activate]')
  await page.waitForSelector(`${editor}:has-text("(active)")`)
  await waitFor(() => themes.some(x => x.name === 'Night drive' && x.colors?.primary === '#ff8800'), 20_000)
  t.pass('the display received the active theme with the new colour')

  await checkA11y(t, page, 'Setup: themes')
  await checkLayouts(t, page, 'setup', 'admin-themes')
})

import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { addChannels } from '../../helpers/boards.js'
import { launchBrowser, openPanel, showView } from '../../helpers/browser.js'
import { createUser, login, provisionDevice } from '../../helpers/devices.js'

// The Setup view's screens (issue #20): a screen for the displays, its items added (the API's 400 on the field),
// ordered by drag and drop, previewed in the active theme's colours.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

t.test('viewers and operators: the screen admin routes answer 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/screens', { name: 'x', title: 'x' }), 403, `${role}: add`)
    t.equal(await statusAs(app.httpUrl, token, 'PATCH', '/screens/items/1', { position: 2 }), 403, `${role}: order`)
  }
})

t.test('screens: field errors, two buttons, drag and drop, preview in the active theme', async t => {
  const { uuid } = await provisionDevice(app, { type: 'relay_board', name: 'Front board' })
  await addChannels(app, uuid, [{ channel: 1, name: 'Lights' }, { channel: 2, name: 'Horn' }])
  const { page } = await openPanel(t, browser, app, 'admin')
  await showView(page, 'setup')
  await page.click('[data-tab=screens]')
  await page.click('[data-testid=screen-new-submit]')
  await page.waitForSelector('[data-testid=screen-new] [data-field="/name"] .field-error')
  await page.fill('[data-testid=screen-new] [name=screen-name]', 'Main')
  await page.click('[data-testid=screen-new-submit]')
  await page.waitForSelector('[data-testid=screen-editor]:has-text("Main")')

  const add = '[data-testid=screen-item-add]'
  await page.click('[data-testid=screen-item-add-submit]')
  await page.waitForSelector(`${add} [data-field="/label"] .field-error`)
  t.pass('an item without a label: the error on the label')
  for (const label of ['Lights', 'Horn']) {
    await page.fill(`${add} [name=label]`, label)
    const value = await page.$eval(`${add} [name=relay]`, (el, l) =>
      Array.from((el as HTMLSelectElement).options).find(o => o.textContent?.endsWith(l))?.value ?? '', label)
    await page.selectOption(`${add} [name=relay]`, value)
    await page.click('[data-testid=screen-item-add-submit]')
    await page.waitForSelector(`[data-testid=screen-items] .screen-item:has-text("${label}")`)
  }
  const labels = async (): Promise<string[]> =>
    await page.$$eval('[data-testid=screen-preview] .screen-preview-item', els => els.map(e => e.textContent ?? ''))
  t.same(await labels(), ['Lights', 'Horn'], 'the preview shows the two buttons in order')

  await page.dragAndDrop('.screen-item:has-text("Horn")', '.screen-item:has-text("Lights")')
  await page.waitForFunction(() => document.querySelector('.screen-preview-item')?.textContent === 'Horn')
  const admin = await createUser(app, { role: 'admin' })
  const token = await login(app, admin.username, admin.password)
  const headers = { authorization: `Bearer ${token}` }
  const list = await (await fetch(`${app.httpUrl}/api/v1/screens`, { headers })).json()
  let items: Array<{ label: string }> = []
  for (let i = 0; i < 50; i++) {
    const screen = await (await fetch(`${app.httpUrl}/api/v1/screens/${list.items[0].id}`, { headers })).json()
    items = screen.items
    if (items[0]?.label === 'Horn') break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.same(items.map(i => i.label), ['Horn', 'Lights'], 'the new order is stored')
  const bg = await page.$eval('.screen-preview-item', el => getComputedStyle(el).backgroundColor)
  t.match(bg, /^rgb/, 'drawn in the theme colour')

  await checkA11y(t, page, 'Setup: screens')
  await checkLayouts(t, page, 'setup', 'admin-screens')
})

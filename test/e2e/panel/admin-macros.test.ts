import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { simBoard } from '../../helpers/boards.js'
import { launchBrowser, openPanel, showView } from '../../helpers/browser.js'
import { createUser, login } from '../../helpers/devices.js'
import { waitFor } from '../../helpers/mqtt.js'

// The Setup view's macros (issue #20): steps (set a relay, wait, only if), saved in one request with the API's 400
// on the step's field, and a test run whose progress shows while a simulated board carries it out.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

t.test('viewers and operators: the macro admin routes answer 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/macros', { name: 'x', actions: [] }), 403, `${role}: add`)
    t.equal(await statusAs(app.httpUrl, token, 'PATCH', '/macros/1', { name: 'y' }), 403, `${role}: edit`)
    t.equal(await statusAs(app.httpUrl, token, 'DELETE', '/macros/1'), 403, `${role}: delete`)
  }
})

t.test('macros: field errors, relay and delay steps, a test run that drives the board', async t => {
  const channels = [{ channel: 1, name: 'Work lights' }, { channel: 2, name: 'Beacon' }]
  const board = await simBoard(t, app, { channels })
  const { page } = await openPanel(t, browser, app, 'admin')
  await showView(page, 'setup')
  await page.click('[data-tab=macros]')
  await page.click('[data-testid=macro-new-submit]')
  await page.waitForSelector('[data-testid=macro-new] [data-field="/name"] .field-error')
  t.pass('a macro without a name: the error on the name')
  await page.fill('[data-testid=macro-new] [name=macro-name]', 'Lights on')
  await page.click('[data-testid=macro-new-submit]')
  await page.waitForSelector('[data-testid=macro-editor]:has-text("Lights on")')

  await page.click('[data-testid=step-add-delay]')
  await page.click('[data-testid=step-add-relay]')
  await page.click('[data-testid=step-add-relay]')
  const relays = await page.$$eval('[data-step="2"] [name=step-2-relay] option', os => os.map(o => o.textContent))
  t.ok(relays.some(r => r?.includes('Beacon')), 'the channels are offered by name')
  const beacon = await page.$eval('[data-step="2"] [name=step-2-relay]',
    el => Array.from((el as HTMLSelectElement).options).find(o => o.textContent?.includes('Beacon'))?.value ?? '')
  await page.selectOption('[data-step="2"] [name=step-2-relay]', beacon)
  // The delay first, then moved down: the order is the page's.
  await page.click('[data-step="0"] [aria-label="Move step 1 down"]')
  await page.fill('[data-step="1"] [name=step-1-ms]', '-5')
  await page.click('[data-testid=macro-save]')
  await page.waitForSelector('[data-step="1"] [data-field="/actions/1/params/ms"] .field-error')
  t.pass('a negative delay: the error on that step\'s field')
  await page.fill('[data-step="1"] [name=step-1-ms]', '100')
  await page.click('[data-testid=macro-save]')
  await page.waitForSelector('[data-testid=macro-editor] [data-step="2"][data-type=relay]')
  const admin = await createUser(app, { role: 'admin' })
  const token = await login(app, admin.username, admin.password)
  const headers = { authorization: `Bearer ${token}` }
  const macros = await (await fetch(`${app.httpUrl}/api/v1/macros`, { headers })).json()
  t.match(macros.items[0].actions, [
    { type: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } },
    { type: 'delay', params: { ms: 100 } },
    { type: 'relay', params: { device_uuid: board.uuid, channel: 2, action: 'on' } }
  ], 'saved as the page ordered it')

  await page.click('[data-testid=macro-test-run]')
  await page.waitForSelector('[data-testid=macro-editor] [data-testid=macro-progress][data-status=completed]')
  await waitFor(() => board.state.get(1) === true && board.state.get(2) === true, 20_000)
  t.pass('the test run turned both channels on at the board, and the page shows it completed')

  await checkA11y(t, page, 'Setup: macros')
  await checkLayouts(t, page, 'setup', 'admin-macros')
})

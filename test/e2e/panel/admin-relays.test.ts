import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { launchBrowser, openPanel, showView } from '../../helpers/browser.js'
import { createUser, login, provisionDevice } from '../../helpers/devices.js'

// The Setup view's relay channels (issue #20): per board, each channel's name, function, mutex group, max-on,
// pulse length and default state, validated as the API validates (its 400 shown on the field it names).

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

t.test('viewers and operators: the channel admin routes answer 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    const create = { deviceUuid: 'x-board', channelNumber: 1, name: 'x', function: 'toggle' }
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/relays', create), 403, `${role}: add`)
    t.equal(await statusAs(app.httpUrl, token, 'PATCH', '/relays/1', { name: 'y' }), 403, `${role}: edit`)
    t.equal(await statusAs(app.httpUrl, token, 'DELETE', '/relays/1'), 403, `${role}: delete`)
  }
})

t.test('channels: field errors, two in a mutex group, an edit a second admin sees, delete', async t => {
  const { uuid } = await provisionDevice(app, { type: 'relay_board', name: 'Rear board' })
  const { page } = await openPanel(t, browser, app, 'admin')
  const other = await openPanel(t, browser, app, 'admin')
  for (const p of [page, other.page]) {
    await showView(p, 'setup')
    await p.click('[data-tab=relays]')
    await p.waitForSelector(`.chip[data-uuid="${uuid}"][aria-selected=true]`)
  }
  const add = '[data-testid=channel-add]'
  const fill = async (fields: Record<string, string>): Promise<void> => {
    for (const [name, value] of Object.entries(fields)) await page.fill(`${add} [name=${name}]`, value)
  }

  await fill({ channelNumber: '1', name: '' })
  await page.click('[data-testid=channel-add-submit]')
  await page.waitForSelector(`${add} [data-field="/name"] .field-error`)
  t.pass('an empty name: the error on the name field')
  await fill({ channelNumber: '3', name: 'Horn', maxOnMs: '2000', pulseMs: '5000' })
  await page.selectOption(`${add} [name=function]`, 'pulse')
  await page.click('[data-testid=channel-add-submit]')
  await page.waitForSelector(`${add} [data-field="/pulseMs"] .field-error`)
  t.match(await page.textContent(`${add} [data-field="/pulseMs"] .field-error`), /maxOnMs/, 'the API\'s own rule')
  await fill({ channelNumber: 'two', pulseMs: '' })
  await page.click('[data-testid=channel-add-submit]')
  await page.waitForSelector(`${add} [data-field="/channelNumber"] .field-error`)
  t.pass('a channel number that is not a number: the error on its field')

  await page.selectOption(`${add} [name=function]`, 'toggle')
  await fill({ channelNumber: '1', name: 'Winch in', mutexGroup: 'winch', maxOnMs: '' })
  await page.click('[data-testid=channel-add-submit]')
  await page.waitForSelector('.channel-row[data-channel="1"]')
  await fill({ channelNumber: '2', name: 'Winch out', mutexGroup: 'winch' })
  await page.check(`${add} [name=defaultState]`)
  await page.click('[data-testid=channel-add-submit]')
  await page.waitForSelector('.channel-row[data-channel="2"]')
  const admin = await createUser(app, { role: 'admin' })
  const token = await login(app, admin.username, admin.password)
  const list = await (await fetch(`${app.httpUrl}/api/v1/relays?deviceUuid=${uuid}`, {
    headers: { authorization: `Bearer ${token}` }
  })).json()
  t.match(list.items, [
    { channelNumber: 1, name: 'Winch in', function: 'toggle', mutexGroup: 'winch', defaultState: false },
    { channelNumber: 2, name: 'Winch out', mutexGroup: 'winch', defaultState: true }
  ], 'two channels in one mutex group, as the page set them')

  const one = '.channel-row[data-channel="1"]'
  await page.fill(`${one} [name=name]`, 'Winch pull')
  await page.fill(`${one} [name=maxOnMs]`, '30000')
  await page.click(`${one} [data-testid=channel-save]`)
  const valueIs = ([sel, want]: string[]): boolean =>
    (document.querySelector(sel) as HTMLInputElement | null)?.value === want
  await other.page.waitForFunction(valueIs, [`${one} [name=name]`, 'Winch pull'])
  t.pass('the second admin sees the new name')
  await page.fill(`${one} [name=maxOnMs]`, '-5')
  await page.click(`${one} [data-testid=channel-save]`)
  await page.waitForSelector(`${one} [data-field="/maxOnMs"] .field-error`)
  t.pass('an edit the API refuses: the error on its field')

  await checkA11y(t, page, 'Setup: relay channels')
  await checkLayouts(t, page, 'setup', 'admin-relays')

  await page.click('.channel-row[data-channel="2"] [data-testid=channel-delete]')
  await page.click('.channel-row[data-channel="2"] [data-testid=channel-delete]')
  await page.waitForSelector('.channel-row[data-channel="2"]', { state: 'detached' })
  t.pass('deleted')
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { simBoardAt } from '../../helpers/boards.js'
import { launchBrowser, logIn, newPanelPage, showView } from '../../helpers/browser.js'
import { connect, waitFor } from '../../helpers/mqtt.js'

// Issue #20, acceptance 1: a vehicle set up from an empty data directory in the browser alone (no CLI, no API by
// hand): the initial password changed, a relay board and a display added, the channels named with two in a mutex
// group, a screen with two buttons, the theme changed, a macro written, an operator added; then a simulated board
// connects with the secret the page showed, the simulated display receives its screen and theme, and the macro run
// from the operator's Macros view drives the board.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

interface Shown { gateway: string, port: number, uuid: string, secret: string }

/** Setup → Devices: adds one; resolves with the provisioning block the page showed (then closes it). */
async function addDevice (page: Page, name: string, type: string): Promise<Shown> {
  await page.fill('[data-testid=device-add] input[name=name]', name)
  await page.selectOption('[data-testid=device-add] select[name=type]', type)
  await page.click('[data-testid=device-add-submit]')
  await page.waitForSelector('[data-testid=provisioning]')
  const shown = JSON.parse(await page.textContent('[data-testid=provisioning-text]') ?? '{}') as Shown
  await page.click('[data-testid=provisioning-close]')
  await page.waitForSelector('[data-testid=provisioning]', { state: 'detached' })
  return shown
}

/** The value of the option whose text ends with `label` (the relay pickers show "board · channel name"). */
async function optionEnding (page: Page, select: string, label: string): Promise<string> {
  return await page.$eval(select, (el, l) =>
    Array.from((el as HTMLSelectElement).options).find(o => o.textContent?.endsWith(l))?.value ?? '', label)
}

t.test('a vehicle set up in the browser alone drives its board and its display', async t => {
  const initial = readFileSync(join(app.config.dataDir, 'initial-admin-password'), 'utf8').trim()
  const page = await newPanelPage(t, browser, app)
  await logIn(page, 'admin', initial)

  // The initial password, changed from the page: the panel asks for the new one.
  await showView(page, 'setup')
  await page.click('[data-tab=users]')
  const me = '.user-row[data-user=admin]'
  await page.fill(`${me} [name=password]`, 'the owner\'s own password')
  await page.click(`${me} [data-testid=user-password]`)
  await page.waitForSelector('.login input[name=username]')
  await logIn(page, 'admin', 'the owner\'s own password')

  // An operator for the driver.
  await showView(page, 'setup')
  await page.click('[data-tab=users]')
  const add = '[data-testid=user-add]'
  await page.fill(`${add} [name=username]`, 'driver')
  await page.fill(`${add} [name=password]`, 'driver password 1')
  await page.selectOption(`${add} [name=role]`, 'operator')
  await page.click('[data-testid=user-add-submit]')
  await page.waitForSelector('.user-row[data-user=driver][data-role=operator]')

  // A relay board and a display; each secret is shown once.
  await page.click('[data-tab=devices]')
  const boardShown = await addDevice(page, 'Front board', 'relay_board')
  const displayShown = await addDevice(page, 'Dash display', 'display')
  t.match(boardShown, { gateway: new URL(app.panelUrl).hostname, secret: /^.{16,}$/ }, 'the provisioning block')
  const board = await simBoardAt(t, app.mqttUrl, { uuid: boardShown.uuid, secret: boardShown.secret, channels: [1, 2] })
  await page.waitForSelector(`.device-row[data-uuid="${boardShown.uuid}"][data-status=online]`)
  t.pass('the board connected with the secret the page showed')

  // Its channels, two in one mutex group.
  await page.click('[data-tab=relays]')
  await page.click(`.chip[data-uuid="${boardShown.uuid}"]`)
  await page.waitForSelector(`.chip[data-uuid="${boardShown.uuid}"][aria-selected=true]`)
  const channel = '[data-testid=channel-add]'
  for (const [n, name] of [['1', 'Winch in'], ['2', 'Winch out']]) {
    await page.fill(`${channel} [name=channelNumber]`, n)
    await page.fill(`${channel} [name=name]`, name)
    await page.fill(`${channel} [name=mutexGroup]`, 'winch')
    await page.click('[data-testid=channel-add-submit]')
    await page.waitForSelector(`.channel-row[data-channel="${n}"]`)
  }

  // A screen with two buttons, one per channel.
  await page.click('[data-tab=screens]')
  await page.fill('[data-testid=screen-new] [name=screen-name]', 'Winch')
  await page.click('[data-testid=screen-new-submit]')
  await page.waitForSelector('[data-testid=screen-editor]:has-text("Winch")')
  const item = '[data-testid=screen-item-add]'
  for (const label of ['Winch in', 'Winch out']) {
    await page.fill(`${item} [name=label]`, label)
    await page.selectOption(`${item} [name=relay]`, await optionEnding(page, `${item} [name=relay]`, label))
    await page.click('[data-testid=screen-item-add-submit]')
    await page.waitForSelector(`[data-testid=screen-items] .screen-item:has-text("${label}")`)
  }

  // The theme: a new one, its primary colour, activated.
  await page.click('[data-tab=themes]')
  await page.fill('[data-testid=theme-new] [name=theme-name]', 'Night drive')
  await page.click('[data-testid=theme-new-submit]')
  const editor = '[data-testid=theme-editor]'
  await page.waitForSelector(`${editor}:has-text("Night drive")`)
  await page.fill(`${editor} [name=color-primary]`, '#ff8800')
  await page.click('[data-testid=theme-save]')
  await page.waitForSelector('[data-testid=theme-activate]')
  await page.click('[data-testid=theme-activate]')
  await page.waitForSelector(`${editor}:has-text("(active)")`)

  // A macro: winch in.
  await page.click('[data-tab=macros]')
  await page.fill('[data-testid=macro-new] [name=macro-name]', 'Pull in')
  await page.click('[data-testid=macro-new-submit]')
  await page.waitForSelector('[data-testid=macro-editor]:has-text("Pull in")')
  await page.click('[data-testid=step-add-relay]')
  const step = '[data-step="0"] [name=step-0-relay]'
  await page.selectOption(step, await optionEnding(page, step, 'Winch in'))
  await page.click('[data-testid=macro-save]')
  await page.waitForSelector('[data-testid=macro-editor] [data-step="0"][data-type=relay]')

  // The display connects with the secret the page showed: its screen and the theme are waiting for it.
  const display = await connect(t, app.mqttUrl, {
    clientId: displayShown.uuid, username: displayShown.uuid, password: displayShown.secret
  })
  const config = new Map<string, string>()
  display.on('message', (topic, payload) => { config.set(topic, payload.toString()) })
  await display.subscribeAsync('autocore/config/#', { qos: 1 })
  const screens = (): Array<{ title: string, items: Array<{ label: string, relay: unknown }> }> =>
    [...config].filter(([k, v]) => k.startsWith('autocore/config/screens/') && v !== '').map(([, v]) => JSON.parse(v))
  await waitFor(() => screens().length === 1 && config.has('autocore/config/theme'), 20_000)
  t.match(screens()[0], {
    title: 'Winch',
    items: [
      { label: 'Winch in', relay: { uuid: boardShown.uuid, channel: 1, name: 'Winch in' } },
      { label: 'Winch out', relay: { uuid: boardShown.uuid, channel: 2, name: 'Winch out' } }
    ]
  }, 'the display has its screen: two buttons, each naming its board and channel')
  const theme = JSON.parse(config.get('autocore/config/theme') ?? '{}')
  t.match(theme, { name: 'Night drive', colors: { primary: '#ff8800' } }, 'and the theme')

  // The driver runs the macro from the operator's Macros view; the board carries it out.
  const driver = await newPanelPage(t, browser, app)
  await logIn(driver, 'driver', 'driver password 1')
  await showView(driver, 'macros')
  const macro = '.macro:has-text("Pull in")'
  await driver.click(`${macro} [data-testid=macro-run]`)
  await driver.waitForSelector(`${macro} [data-testid=macro-progress][data-status=completed]`)
  await waitFor(() => board.state.get(1) === true, 20_000)
  t.equal(board.state.get(2) ?? false, false, 'the other side of the mutex group stays off')
  t.pass('the macro run from the operator view turned the winch on at the board')
})

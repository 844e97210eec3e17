import t from 'tap'
import { Macro, MacroAction } from '../../../entities/index.js'
import { DEFAULT_THEME } from '../../../src/services/theme-payload.js'
import { startApp, type RunningApp } from '../../helpers/app.js'
import { simBoard } from '../../helpers/boards.js'
import { waitFor } from '../../helpers/mqtt.js'
import { UI_TIMEOUT_MS, launchBrowser, openPanel, showView } from '../../helpers/browser.js'

// Macros, the events feed and the theme, in the browser (issue #7). Macros need GET /api/v1/macros and
// POST /api/v1/macros/:id/cancel; the events feed's first page needs GET /api/v1/events.

// Browser tests take longer than the suite's per-file default on a loaded 2-core machine.
t.setTimeout(300_000)
const browser = await launchBrowser(t)

async function macro (
  app: RunningApp,
  name: string,
  steps: Array<Pick<MacroAction, 'actionType' | 'params'>>
): Promise<number> {
  const ds = app.gateway.services.db.dataSource
  const r = await ds
    .getRepository(Macro)
    .insert({ name, description: `${name} (test)`, enabled: true, createdAt: 0, updatedAt: 0 })
  const id = r.identifiers[0].id as number
  for (const [i, s] of steps.entries()) {
    await ds
      .getRepository(MacroAction)
      .insert({ macroId: id, position: i + 1, actionType: s.actionType, params: s.params, condition: null } as never)
  }
  return id
}

t.test('macros: run over MQTT with live progress; a long run is cancelled', async t => {
  const app = await startApp(t)
  const board = await simBoard(t, app, { channels: [{ channel: 1, name: 'Lights' }] })
  const quick = await macro(app, 'Lights on', [
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } }
  ])
  const slow = await macro(app, 'Slow', [
    { actionType: 'delay', params: { ms: 600_000 } },
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'off' } }
  ])
  const { page } = await openPanel(t, browser, app, 'operator')
  await showView(page, 'macros')
  await page.click(`.macro[data-macro="${quick}"] [data-testid=macro-run]`)
  await page.waitForSelector(`.macro[data-macro="${quick}"] [data-testid=macro-progress][data-status=completed]`)
  await waitFor(() => board.state.get(1) === true, UI_TIMEOUT_MS)
  t.pass('the macro ran to completion and its step reached the board')

  await page.click(`.macro[data-macro="${slow}"] [data-testid=macro-run]`)
  await page.waitForSelector(`.macro[data-macro="${slow}"] [data-testid=macro-progress][data-status=running]`)
  await page.click(`.macro[data-macro="${slow}"] [data-testid=macro-cancel]`)
  await page.waitForSelector(`.macro[data-macro="${slow}"] [data-testid=macro-progress][data-status=cancelled]`)
  t.equal(board.state.get(1), true, 'the cancelled run never reached its second step')
})

t.test('events: the first page from the API, then live; filtered by level', async t => {
  const app = await startApp(t)
  const events = app.gateway.services.events
  await events.log({ level: 'warning', type: 'panel_test_before', source: 'test' })
  const { page } = await openPanel(t, browser, app, 'viewer')
  await showView(page, 'events')
  await page.waitForSelector('.event[data-type=panel_test_before]')
  await events.log({
    level: 'error',
    type: 'panel_test_live',
    source: 'test',
    target: 'board-1',
    payload: { code: 'X' }
  })
  await events.log({ level: 'info', type: 'panel_test_info', source: 'test' })
  await page.waitForSelector('.event[data-type=panel_test_live]')
  await page.waitForSelector('.event[data-type=panel_test_info]')
  t.match(await page.textContent('.event[data-type=panel_test_live]'), /board-1/)
  const types = await page.$$eval('.event', els => els.map(e => e.getAttribute('data-type')))
  t.ok(types.indexOf('panel_test_live') < types.indexOf('panel_test_before'), 'newest first')

  await page.click('.chip[data-level=info]')
  await page.waitForSelector('.event[data-type=panel_test_info]', { state: 'detached' })
  t.ok(await page.$('.event[data-type=panel_test_live]'), 'other levels stay')
  t.equal(await page.$$eval('.event[data-level=info]', els => els.length), 0, 'no info event is shown')
})

t.test('theme: the active theme (retained autocore/config/theme) applies; without one, the built-in dark ' +
  'theme', async t => {
  const app = await startApp(t)
  const { page } = await openPanel(t, browser, app, 'viewer')
  const cssVar = async (name: string): Promise<string> =>
    await page.evaluate(n => getComputedStyle(document.documentElement).getPropertyValue(n).trim().toLowerCase(), name)
  const until = async (name: string, value: string): Promise<void> => {
    await page.waitForFunction(
      ([n, v]) => getComputedStyle(document.documentElement).getPropertyValue(n).trim().toLowerCase() === v,
      [name, value]
    )
  }
  // The gateway's own active theme ('default', published at start).
  await until('--bg', DEFAULT_THEME.colors.background.toLowerCase())
  t.equal(await cssVar('--text'), DEFAULT_THEME.colors.text_primary.toLowerCase())
  t.equal(await cssVar('--on-primary'), '#ffffff', 'white on the theme\'s dark blue buttons, by contrast')

  // A theme with a panel override: the panel takes it.
  await app.gateway.services.broker.publish(
    'autocore/config/theme',
    {
      name: 'night',
      version: 2,
      colors: { background: '#101820', primary: '#2563eb' },
      fonts: {},
      device_types: { panel: { colors: { background: '#000000', primary: '#ffcc00' }, fonts: {} } }
    },
    { qos: 1, retain: true }
  )
  await until('--bg', '#000000')
  t.equal(await cssVar('--primary'), '#ffcc00')
  t.equal(await cssVar('--on-primary'), '#05101c', 'dark text on a yellow button')

  await app.gateway.services.broker.publish(
    'autocore/config/theme',
    { colors: { background: '#ffffff', surface: 'red; x: url(evil)' } },
    { qos: 1, retain: true }
  )
  await until('--bg', '#ffffff')
  t.equal(await cssVar('--primary'), '#4aa3ff', 'what the new theme does not set is back to the built-in value')
  t.equal(await cssVar('--text'), '#0b0d10', 'a light background gets dark text')
  t.not(await cssVar('--surface'), 'red; x: url(evil)', 'a value that is not a color is ignored')

  // The retained theme cleared (an empty retained message): the built-in theme.
  await app.gateway.services.broker.publish('autocore/config/theme', Buffer.alloc(0), { qos: 1, retain: true })
  await until('--bg', '#07090c')
})

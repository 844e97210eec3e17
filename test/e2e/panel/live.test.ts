import t from 'tap'
import { Macro, MacroAction } from '../../../entities/index.js'
import { startApp, type RunningApp } from '../../helpers/app.js'
import { simBoard } from '../../helpers/boards.js'
import { waitFor } from '../../helpers/mqtt.js'
import { UI_TIMEOUT_MS, launchBrowser, openPanel, showView } from '../../helpers/browser.js'

// Macros, the events feed and the theme, in the browser (issue #7). Macros need GET /api/v1/macros and
// POST /api/v1/macros/:id/cancel; the events feed's first page needs GET /api/v1/events.

const browser = await launchBrowser(t)

async function macro (app: RunningApp, name: string, steps: Array<Pick<MacroAction, 'actionType' | 'params'>>): Promise<number> {
  const ds = app.gateway.ctx.db.dataSource
  const r = await ds.getRepository(Macro).insert({ name, description: `${name} (test)`, enabled: true, createdAt: 0, updatedAt: 0 })
  const id = r.identifiers[0].id as number
  for (const [i, s] of steps.entries()) await ds.getRepository(MacroAction).insert({ macroId: id, position: i + 1, actionType: s.actionType, params: s.params, condition: null } as never)
  return id
}

t.test('macros: run over MQTT with live progress; a long run is cancelled', async t => {
  const app = await startApp(t)
  const board = await simBoard(t, app, { channels: [{ channel: 1, name: 'Lights' }] })
  const quick = await macro(app, 'Lights on', [{ actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } }])
  const slow = await macro(app, 'Slow', [{ actionType: 'delay', params: { ms: 600_000 } }, { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'off' } }])
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
  const events = app.gateway.ctx.events
  await events.log({ level: 'warning', type: 'panel_test_before', source: 'test' })
  const { page } = await openPanel(t, browser, app, 'viewer')
  await showView(page, 'events')
  await page.waitForSelector('.event[data-type=panel_test_before]')
  await events.log({ level: 'error', type: 'panel_test_live', source: 'test', target: 'board-1', payload: { code: 'X' } })
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

t.test('theme: the retained autocore/config/theme applies; absent, the default dark theme stays', async t => {
  const app = await startApp(t)
  const { page } = await openPanel(t, browser, app, 'viewer')
  const cssVar = async (name: string): Promise<string> => await page.evaluate(n => getComputedStyle(document.documentElement).getPropertyValue(n).trim(), name)
  t.equal(await cssVar('--bg'), '#07090c', 'no theme message: the built-in theme')
  await app.gateway.ctx.broker.publish('autocore/config/theme', { theme: { colors: { background: '#101820', primary: '#ffcc00', text_primary: '#ffffff' } } }, { qos: 1, retain: true })
  await page.waitForFunction(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() === '#101820')
  t.equal(await cssVar('--primary'), '#ffcc00')
  await app.gateway.ctx.broker.publish('autocore/config/theme', { colors: { background: '#ffffff', surface: 'red; x: url(evil)' } }, { qos: 1, retain: true })
  await page.waitForFunction(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() === '#ffffff')
  t.equal(await cssVar('--primary'), '#4aa3ff', 'what the new theme does not set is back to the default')
  t.equal(await cssVar('--text'), '#0b0d10', 'a light background gets dark text')
  t.not(await cssVar('--surface'), 'red; x: url(evil)', 'a value that is not a color is ignored')
})

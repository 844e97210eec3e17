import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { Macro, MacroAction } from '../../../entities/index.js'
import { startApp, type RunningApp } from '../../helpers/app.js'
import { simBoard } from '../../helpers/boards.js'
import { createUser, deviceClient, provisionDevice } from '../../helpers/devices.js'
import { waitFor } from '../../helpers/mqtt.js'
import {
  LARGE,
  PHONE,
  SMALL,
  UI_TIMEOUT_MS,
  launchBrowser,
  logIn,
  newPanelPage,
  offlineWill,
  screenshot,
  showView,
  waitForShown,
  type Viewport
} from '../../helpers/browser.js'

// Screenshots of every view at 800×480 (the seeds' small displays), 1280×800 and a phone, into the git-ignored
// artifacts/screenshots/, over a realistic vehicle; each picture is also checked for horizontal overflow.

// Browser tests take longer than the suite's per-file default on a loaded 2-core machine.
t.setTimeout(300_000)
const browser = await launchBrowser(t)

async function macro (
  app: RunningApp,
  name: string,
  description: string,
  steps: Array<Pick<MacroAction, 'actionType' | 'params'>>
): Promise<number> {
  const ds = app.gateway.services.db.dataSource
  const id = (await ds.getRepository(Macro).insert({ name, description, enabled: true, createdAt: 0, updatedAt: 0 }))
    .identifiers[0].id as number
  for (const [i, s] of steps.entries()) {
    await ds
      .getRepository(MacroAction)
      .insert({ macroId: id, position: i + 1, actionType: s.actionType, params: s.params, condition: null } as never)
  }
  return id
}

/** A vehicle: a relay board, engine sensors with an hour of history, a display, two devices offline, macros. */
async function vehicle (t: Test, app: RunningApp): Promise<{ sensors: string, campSetup: number }> {
  const board = await simBoard(t, app, {
    channels: [
      { channel: 1, name: 'Headlights' },
      { channel: 2, name: 'Work lights' },
      { channel: 3, name: 'Horn', function: 'momentary' },
      { channel: 4, name: 'Fuel pump', maxOnMs: 600_000 },
      { channel: 5, name: 'Door latch', function: 'pulse', pulseMs: 300 },
      { channel: 6, name: 'Winch in', mutexGroup: 'winch' },
      { channel: 7, name: 'Winch out', mutexGroup: 'winch' },
      { channel: 8, name: 'Compressor', enabled: false }
    ]
  })
  await app.gateway.services.repos.devices.update(board.uuid, { name: 'Cab relay board' }, Date.now())
  await board.client.publishAsync(
    `autocore/devices/${board.uuid}/announce`,
    JSON.stringify({ type: 'relay_board', firmware: '1.8.2' }),
    { qos: 1 }
  )
  await board.client.publishAsync(
    `autocore/relays/${board.uuid}/state`,
    JSON.stringify({ channels: { 1: true, 2: false, 3: false, 4: true, 5: false, 6: false, 7: false, 8: false } }),
    { qos: 1, retain: true }
  )

  const sensors = randomUUID()
  const { client } = await deviceClient(t, app, {
    uuid: sensors,
    name: 'Engine sensors',
    type: 'sensor',
    mqtt: { will: offlineWill(sensors) }
  })
  await client.publishAsync(
    `autocore/devices/${sensors}/announce`,
    JSON.stringify({ type: 'sensor', firmware: '2.4.1' }),
    { qos: 1 }
  )
  const now = Date.now()
  for (let m = 60; m >= 0; m--) {
    const w = Math.sin(m / 7)
    await client.publishAsync(`autocore/devices/${sensors}/telemetry`, JSON.stringify({
      coolant_temp: { value: Math.round((88 + 3 * w) * 10) / 10, unit: '°C' },
      oil_pressure: { value: Math.round((3.8 + 0.3 * Math.cos(m / 5)) * 100) / 100, unit: 'bar' },
      battery: { value: Math.round((13.9 + 0.2 * w) * 100) / 100, unit: 'V' },
      rpm: Math.round(1400 + 600 * Math.sin(m / 3)),
      fuel_level: { value: Math.round(72 - (60 - m) * 0.15), unit: '%' },
      ts: now - m * 60_000
    }), { qos: 1 })
  }
  const display = randomUUID()
  await deviceClient(t, app, { uuid: display, name: 'Dash display', type: 'display' })
  await provisionDevice(app, { name: 'Rear camera', type: 'camera' })
  await provisionDevice(app, { name: 'Trailer lights', type: 'relay_board' })

  await macro(app, 'Night mode', 'Headlights on, work lights off', [
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'on' } },
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 2, action: 'off' } }
  ])
  const campSetup = await macro(app, 'Camp setup', 'Work lights on, compressor for 10 minutes', [
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 2, action: 'on' } },
    { actionType: 'delay', params: { ms: 600_000 } },
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 2, action: 'off' } }
  ])
  await macro(app, 'Park', 'Everything off', [
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 1, action: 'off' } },
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 2, action: 'off' } },
    { actionType: 'relay', params: { device_uuid: board.uuid, channel: 4, action: 'off' } }
  ])
  await app.gateway.services.events.log({
    level: 'warning',
    type: 'relay_state_mismatch',
    source: 'relays',
    target: `${board.uuid}/4`,
    payload: { expected: true, reported: false }
  })
  await app.gateway.services.events.log({
    level: 'error',
    type: 'device_error',
    source: 'mqtt',
    target: sensors,
    payload: { code: 'E_SENSOR', message: 'oil pressure sensor open circuit' }
  })
  return { sensors, campSetup }
}

async function tour (t: Test, page: Page, name: string): Promise<void> {
  const { overflow } = await screenshot(page, name)
  t.same(overflow, [], `${name} at ${page.viewportSize()?.width}×${page.viewportSize()?.height}: nothing overflows`)
}

t.test('screenshots of every view at 800×480, 1280×800 and on a phone', async t => {
  const app = await startApp(t)
  const { sensors, campSetup } = await vehicle(t, app)
  const admin = await createUser(app, { role: 'admin', username: 'admin-ana' })
  const viewer = await createUser(app, { role: 'viewer', username: 'viewer-vic' })
  const pages: Array<[Viewport, Page]> = []
  for (const vp of [SMALL, LARGE, PHONE]) {
    const page = await newPanelPage(t, browser, app, vp)
    await page.waitForSelector('input[name=username]')
    await tour(t, page, 'login')
    await logIn(page, admin.username, admin.password)
    pages.push([vp, page])
  }
  for (const [, page] of pages) {
    await showView(page, 'devices')
    await page.waitForSelector('.device[data-status=online]')
    await tour(t, page, 'devices')
    await showView(page, 'telemetry')
    await page.click(`.chip[data-uuid="${sensors}"]`)
    await page.waitForSelector('[data-key=rpm] .chart-line')
    await tour(t, page, 'telemetry')
    await showView(page, 'relays')
    await page.waitForSelector('.relay[data-state=on]')
    await tour(t, page, 'relays')
  }
  // One macro running, to show its progress.
  await pages[0][1].bringToFront()
  const [, first] = pages[0]
  await showView(first, 'macros')
  await first.click(`.macro[data-macro="${campSetup}"] [data-testid=macro-run]`)
  for (const [, page] of pages) {
    await showView(page, 'macros')
    await page.waitForSelector(`.macro[data-macro="${campSetup}"] [data-testid=macro-progress][data-status=running]`)
    await tour(t, page, 'macros')
  }
  await first.click('[data-testid=estop]')
  await waitFor(() => app.gateway.services.emergency.record.active, UI_TIMEOUT_MS)
  for (const [, page] of pages) {
    await showView(page, 'relays')
    await waitForShown(page, '[data-testid=emergency-banner]')
    await waitForShown(page, '.relay .lock')
    await tour(t, page, 'relays-emergency')
    await showView(page, 'events')
    await page.waitForSelector('.event[data-type=emergency_stop]')
    await tour(t, page, 'events')
  }
  const viewerPage = await newPanelPage(t, browser, app, SMALL)
  await logIn(viewerPage, viewer.username, viewer.password)
  await showView(viewerPage, 'relays')
  await viewerPage.waitForSelector('.relay[data-state]')
  await tour(t, viewerPage, 'relays-viewer')
})

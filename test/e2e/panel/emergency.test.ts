import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { simBoard, type ChannelSpec, type SimBoard } from '../../helpers/boards.js'
import { userClient } from '../../helpers/devices.js'
import { waitFor } from '../../helpers/mqtt.js'
import { UI_TIMEOUT_MS, launchBrowser, openPanel, showView } from '../../helpers/browser.js'

// The emergency stop and the roles, in the browser (issue #7). The relay controls need GET /api/v1/relays.

// Browser tests take longer than the suite's per-file default on a loaded 2-core machine.
t.setTimeout(300_000)
const browser = await launchBrowser(t)
const config = { commands: { ackTimeoutMs: 2000, maxAttempts: 2, ttlMs: 60000 } }
const CHANNELS: ChannelSpec[] = [
  { channel: 1, name: 'Headlights' },
  { channel: 2, name: 'Horn', function: 'momentary' },
  { channel: 3, name: 'Door latch', function: 'pulse', pulseMs: 300 },
  { channel: 4, name: 'Winch in', mutexGroup: 'winch' },
  { channel: 5, name: 'Winch out', mutexGroup: 'winch' }
]
const offs = (b: SimBoard): string[] =>
  b.commands
    .filter(c => c.topic.startsWith('autocore/relays/') && c.body.action === 'off')
    .map(c => String(c.body.channel))

t.test('the emergency button stops everything and locks the controls on a second panel; an admin resets ' +
  'it', async t => {
  const app = await startApp(t, { config })
  const board = await simBoard(t, app, { channels: CHANNELS })
  const { client: operator } = await userClient(t, app, 'operator')
  await operator.publishAsync(`autocore/relays/${board.uuid}/set`, JSON.stringify({ channel: 1, action: 'on' }), {
    qos: 1
  })
  await waitFor(() => board.state.get(1) === true, UI_TIMEOUT_MS)
  const { page: first } = await openPanel(t, browser, app, 'operator')
  const { page: second } = await openPanel(t, browser, app, 'operator')

  await first.click('[data-testid=estop]')
  await waitFor(
    () => board.state.get(1) === false && ['1', '2', '3', '4', '5'].every(ch => offs(board).includes(ch)),
    UI_TIMEOUT_MS
  )
  t.pass('every channel of the board got an off-command')
  t.equal(app.gateway.services.emergency.record.active, true, 'the gateway holds the emergency stop')

  await second.waitForSelector('[data-testid=emergency-banner]')
  t.match(await second.textContent('[data-testid=emergency-banner]'), /EMERGENCY STOP ACTIVE/)
  await showView(second, 'relays')
  await second.waitForSelector(`.relay[data-uuid="${board.uuid}"][data-channel="1"][data-state=off]`)
  const controls = await second.$$eval('.view button', els => els.map(e => (e as HTMLButtonElement).disabled))
  t.ok(controls.length >= 5, 'the controls are still shown')
  t.ok(controls.every(Boolean), 'every control is disabled')
  t.equal(
    await second.$$eval('.view .relay', els => els.filter(e => e.querySelector('.lock') === null).length),
    0,
    'the lockout is shown on every control'
  )
  t.equal(await second.isDisabled('[data-testid=estop]'), true, 'the stop button says STOPPED')
  t.equal(await second.$('[data-testid=estop-reset]'), null, 'an operator cannot reset')

  const { page: admin } = await openPanel(t, browser, app, 'admin')
  await admin.waitForSelector('[data-testid=emergency-banner]')
  await admin.click('[data-testid=estop-reset]')
  await admin.click('[data-testid=estop-reset]')
  await second.waitForSelector('[data-testid=emergency-banner]', { state: 'detached' })
  await second.waitForSelector('.relay[data-channel="1"] [data-testid=relay-toggle]:not([disabled])')
  t.equal(app.gateway.services.emergency.record.active, false, 'reset by the admin')
})

t.test('a viewer sees states but no controls', async t => {
  const app = await startApp(t, { config })
  const board = await simBoard(t, app, { channels: CHANNELS })
  await board.client.publishAsync(`autocore/relays/${board.uuid}/state`, JSON.stringify({ channels: { 1: true } }), {
    qos: 1,
    retain: true
  })
  const { page } = await openPanel(t, browser, app, 'viewer')
  t.equal(await page.textContent('[data-testid=role]'), 'viewer')
  await showView(page, 'relays')
  await page.waitForSelector(`.relay[data-uuid="${board.uuid}"][data-channel="1"][data-state=on]`)
  t.equal(await page.$$eval('.relay', els => els.length), 4, 'every channel shows (the winch pair as one group)')
  t.equal(await page.$$eval('.view button', els => els.length), 0, 'no button in the relays view')
  t.equal(await page.$('[data-testid=estop]'), null, 'no emergency stop button')
  await showView(page, 'macros')
  t.equal(
    await page.$$eval('[data-testid=macro-run], [data-testid=macro-cancel]', els => els.length),
    0,
    'no macro controls'
  )
})

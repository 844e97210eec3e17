import t from 'tap'
import { FakeClock } from '../../helpers/fake-clock.js'
import { startApp } from '../../helpers/app.js'
import { simBoard, type ChannelSpec, type SimBoard } from '../../helpers/boards.js'
import { waitFor } from '../../helpers/mqtt.js'
import { UI_TIMEOUT_MS, launchBrowser, launchBrowserServer, openPanel, showView } from '../../helpers/browser.js'

// Relay controls in the browser against the real gateway and a simulated relay board. They need GET /api/v1/relays
// (issue #6) for the channel list.

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

const until = async (cond: () => boolean): Promise<void> => await waitFor(cond, UI_TIMEOUT_MS)
const actions = (b: SimBoard): string[] =>
  b.commands
    .filter(c => c.topic.startsWith('autocore/relays/'))
    .map(c => `${String(c.body.action)}${String(c.body.channel)}`)
const card = (uuid: string, channel: number): string => `.relay[data-uuid="${uuid}"][data-channel="${channel}"]`

t.test('toggle: the command reaches the board; the control shows on only after the board reports it', async t => {
  const app = await startApp(t, { config })
  // ack-only: the board acknowledges but does not report its state until the test does, later.
  const board = await simBoard(t, app, { mode: 'ack-only', channels: CHANNELS })
  const { page } = await openPanel(t, browser, app, 'operator')
  await showView(page, 'relays')
  const headlights = card(board.uuid, 1)
  await page.waitForSelector(`${headlights} [data-testid=relay-toggle]`)
  t.equal(await page.getAttribute(headlights, 'data-state'), 'unknown', 'no state before the board has reported one')

  await page.click(`${headlights} [data-testid=relay-toggle]`)
  await until(() => actions(board).includes('on1'))
  await page.waitForSelector(`${headlights} [data-testid=relay-pending]`)
  t.equal(
    await page.getAttribute(headlights, 'data-state'),
    'unknown',
    'pending, not on, while the board has not reported'
  )
  t.equal(await page.textContent(`${headlights} [data-testid=relay-state]`), '—')

  await board.client.publishAsync(
    `autocore/relays/${board.uuid}/state`,
    JSON.stringify({ channels: { 1: true, 2: false, 3: false, 4: false, 5: false } }),
    { qos: 1, retain: true }
  )
  await page.waitForSelector(`${headlights}[data-state=on]`)
  t.equal(
    await page.$(`${headlights} [data-testid=relay-pending]`),
    null,
    'the pending indicator is gone once confirmed'
  )
  t.equal(await page.textContent(`${headlights} [data-testid=relay-toggle]`), 'Turn off')
})

t.test('a mutex group is one selector; pulse goes out as a pulse', async t => {
  const app = await startApp(t, { config })
  const board = await simBoard(t, app, { channels: CHANNELS })
  const { page } = await openPanel(t, browser, app, 'operator')
  await showView(page, 'relays')
  const group = `.relay-group[data-group=winch][data-uuid="${board.uuid}"]`
  await page.waitForSelector(group)
  t.same(
    await page.$$eval(`${group} [role=radio]`, els => els.map(e => e.textContent)),
    ['Off', 'Winch in', 'Winch out'],
    'Off and one choice per channel'
  )
  await page.click(`${group} [data-channel="5"] [role=radio]`)
  await page.waitForSelector(`${group} [data-channel="5"][data-state=on]`)
  await page.click(`${group} [data-channel="4"] [role=radio]`)
  await page.waitForSelector(`${group} [data-channel="4"][data-state=on]`)
  t.equal(await page.getAttribute(`${group} [data-channel="5"]`, 'data-state'), 'off', 'the other one went off')
  t.notOk(board.history.some(s => s[4] && s[5]), 'never both on at the board')
  await page.click(`${group} [role=radio]:text("Off")`)
  await page.waitForSelector(`${group} [data-channel="4"][data-state=off]`)

  await page.click(`${card(board.uuid, 3)} [data-testid=relay-pulse]`)
  await until(() => actions(board).includes('pulse3'))
  t.pass('pulse sent')
})

t.test('momentary: held while pressed; closing the page (or the browser dying) releases it', async t => {
  // A fake clock: the gateway's hold timer never fires, so only the closed socket can release the hold.
  const clock = new FakeClock(Date.now())
  const app = await startApp(t, { config, clock })
  const board = await simBoard(t, app, { channels: CHANNELS })
  await waitFor(() => app.gateway.services.commands.isOnline(board.uuid))
  // A browser of its own for the second round, killed with SIGKILL: no page code, no orderly close of anything.
  const doomed = await launchBrowserServer(t)

  for (const how of ['close the page', 'kill the browser'] as const) {
    const { page } = await openPanel(t, how === 'close the page' ? browser : doomed.browser, app, 'operator')
    await showView(page, 'relays')
    const hold = `${card(board.uuid, 2)} [data-testid=relay-hold]`
    const box = await (await page.waitForSelector(hold)).boundingBox()
    if (box === null) throw new Error('hold button not visible')
    const before = actions(board).length
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.down()
    await until(() => board.state.get(2) === true)
    await page.waitForSelector(`${card(board.uuid, 2)}[data-state=on]`)
    t.same(actions(board).slice(before), ['on2'], `${how}: on while held`)
    if (how === 'close the page') await page.close()
    else doomed.kill()
    await until(() => board.state.get(2) === false)
    t.same(
      actions(board).slice(before),
      ['on2', 'off2'],
      `${how}: released, with no time passing on the gateway's clock`
    )
  }
})

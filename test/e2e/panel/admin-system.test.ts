import t from 'tap'
import { startApp } from '../../helpers/app.js'
import { checkA11y, checkLayouts, statusAs } from '../../helpers/admin-panel.js'
import { launchBrowser, openPanel, showView } from '../../helpers/browser.js'
import { createUser, login } from '../../helpers/devices.js'

// The admin's System view (issue #20): GET /api/v1/system's real values, backups taken and downloaded from the
// page, the event log; hidden from viewers and operators, whose requests the API refuses.

t.setTimeout(300_000)
const browser = await launchBrowser(t)
const app = await startApp(t)

t.test('viewers and operators see no admin view, and the system routes answer them 403', async t => {
  for (const role of ['viewer', 'operator'] as const) {
    const { page } = await openPanel(t, browser, app, role)
    await page.waitForSelector('.nav-item[data-view=devices]')
    t.equal(await page.$('.nav-item[data-view=system]'), null, `${role}: no System in the menu`)
    t.equal(await page.$('.nav-item[data-view=setup]'), null, `${role}: no Setup in the menu`)
    // An old link to an admin view shows the device list, not the admin view.
    await page.evaluate(() => { location.hash = '#/system' })
    await page.waitForSelector('[data-testid=view-system]')
    t.equal(await page.$('[data-testid=backups]'), null, `${role}: #/system shows nothing of the System view`)
    const u = await createUser(app, { role })
    const token = await login(app, u.username, u.password)
    t.equal(await statusAs(app.httpUrl, token, 'GET', '/system'), 403, `${role}: GET /system`)
    t.equal(await statusAs(app.httpUrl, token, 'POST', '/system/backups'), 403, `${role}: POST /system/backups`)
    t.equal(await statusAs(app.httpUrl, token, 'GET', '/system/backups/autocore-20260101T000000000Z.db'), 403,
      `${role}: a backup download`)
  }
})

t.test('System: real values, CPU temperature absent where there is none, a backup taken and downloaded', async t => {
  const { page } = await openPanel(t, browser, app, 'admin')
  await showView(page, 'system')
  await page.waitForSelector('[data-metric=version]')
  const admin = await createUser(app, { role: 'admin' })
  const token = await login(app, admin.username, admin.password)
  const headers = { authorization: `Bearer ${token}` }
  const sys = await (await fetch(`${app.httpUrl}/api/v1/system`, { headers })).json()
  t.match(await page.textContent('[data-metric=version]'), sys.version, 'the version')
  if (sys.host.cpuTemperatureC === null) {
    t.equal(await page.getAttribute('[data-metric=cpuTemp]', 'data-absent'), 'true', 'no thermal zone: shown as absent')
    t.match(await page.textContent('[data-metric=cpuTemp]'), /no sensor/)
  } else {
    t.match(await page.textContent('[data-metric=cpuTemp]'), /°C/, 'the CPU temperature')
  }
  t.match(await page.textContent('[data-metric=disk]'), /[KMGT]B/, 'disk free of the data directory')
  t.match(await page.textContent('[data-metric=db]'), /[KMG]?B/, 'the database size')

  t.equal(await page.$$eval('[data-backup]', els => els.length), 0, 'no backup yet')
  await page.click('[data-testid=backup-now]')
  await page.waitForSelector('[data-backup]')
  const name = await page.getAttribute('[data-backup]', 'data-backup')
  t.match(name, /^autocore-\d{8}T\d{9}Z\.db$/, 'the new backup is listed')
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-backup="${name}"] button`)])
  t.equal(download.suggestedFilename(), name, 'downloaded under its name')
  const path = await download.path()
  const { readFileSync } = await import('node:fs')
  t.equal(readFileSync(path).subarray(0, 15).toString(), 'SQLite format 3', 'the file is the SQLite backup')

  // Who took it is an event, in the log the view carries.
  await page.waitForSelector('[data-testid=system-events] [data-event]:has-text("backup.taken")')
  t.pass('the backup is in the event log')
  t.equal(await statusAs(app.httpUrl, token, 'GET', '/system/backups/..%2Fautocore.db'), 400, 'no path out of backups')
  t.equal(await statusAs(app.httpUrl, token, 'GET', '/system/backups/autocore.db'), 404, 'only a listed backup')

  await checkA11y(t, page, 'System')
  await checkLayouts(t, page, 'system', 'admin-system')
})

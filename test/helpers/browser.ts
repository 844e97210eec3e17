import { createHash, X509Certificate } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Test } from 'tap'
import type { UserRole } from '../../src/auth/principal.js'
import { packageRoot } from '../../src/paths.js'
import type { RunningApp } from './app.js'
import { shippedChromium } from './chromium.js'
import { createUser } from './devices.js'
import { panelOverTls, testCa } from './panel-tls.js'

/** Screenshots of the panel, written by the test run, git-ignored. */
export const SCREENSHOT_DIR = join(packageRoot, 'artifacts', 'screenshots')
/** Generous: the suite runs on a loaded 2-core machine. Every wait is for a condition, never a fixed sleep. */
export const UI_TIMEOUT_MS = 20_000

export interface Viewport { width: number, height: number }
export const SMALL: Viewport = { width: 800, height: 480 }
export const LARGE: Viewport = { width: 1280, height: 800 }
export const PHONE: Viewport = { width: 390, height: 844 }

/** The Chromium shipped in the npm package @sparticuz/chromium (./chromium.ts); playwright-core never downloads one. */
async function launchOptions (
  extraArgs: string[] = []
): Promise<{ executablePath: string, env: Record<string, string>, args: string[], headless: true }> {
  const { executablePath, env } = await shippedChromium()
  return {
    executablePath,
    env,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...extraArgs]
  }
}

/**
 * Chromium told to trust a CA (the gateway's, #17) by its public key: a chain that contains a certificate with
 * that key is accepted, any other certificate error still fails the page (ignoreHTTPSErrors stays off). Chromium
 * on Linux reads trusted roots only from an NSS database (certutil, not shipped); this flag needs none.
 */
export function trustCaArgs (caPem: string): string[] {
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' })
  return [`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`]
}

export async function launchBrowser (t: Test, opts: { trustCa?: string } = {}): Promise<Browser> {
  const trustCa = opts.trustCa ?? (panelOverTls() ? (await testCa()).cert : undefined)
  const browser = await chromium.launch(await launchOptions(trustCa === undefined ? [] : trustCaArgs(trustCa)))
  t.teardown(() => browser.close())
  return browser
}

/** A browser in a process of its own that the test can kill (SIGKILL), as when a tablet's browser crashes. */
export async function launchBrowserServer (t: Test): Promise<{ browser: Browser, kill: () => void }> {
  const trust = panelOverTls() ? trustCaArgs((await testCa()).cert) : []
  const server = await chromium.launchServer(await launchOptions(trust))
  t.teardown(() => server.close().catch(() => {}))
  const browser = await chromium.connect(server.wsEndpoint())
  return { browser, kill: () => { server.process().kill('SIGKILL') } }
}

/** A fresh browser context (its own storage: its own session) on the panel's login page. */
export async function newPanelPage (
  t: Test,
  browser: Browser,
  app: RunningApp,
  viewport: Viewport = LARGE
): Promise<Page> {
  const context = await browser.newContext({ viewport, hasTouch: false })
  t.teardown(() => context.close().catch(() => {}))
  const page = await context.newPage()
  page.setDefaultTimeout(UI_TIMEOUT_MS)
  // An uncaught error in the panel fails the test that caused it.
  page.on('pageerror', err => t.fail(`panel error: ${err.message}`))
  await page.goto(app.panelUrl + '/')
  // Over TLS the page is an https: one, so Chromium allows its live link only over wss: (mixed content is blocked).
  if (panelOverTls()) t.equal(new URL(page.url()).protocol, 'https:', 'the panel is served over HTTPS')
  return page
}

/** The simulated device's Last Will, as the firmware sets it (SPEC §3): offline, retained, when its socket dies. */
export { offlineWill } from '../../src/simulator/board-wire.js'

/** Logs in through the form and waits until the MQTT link says it is live. */
export async function logIn (page: Page, username: string, password: string): Promise<void> {
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-link=online]')
}

/** A new user of `role` logged in on a new page. */
export async function openPanel (
  t: Test,
  browser: Browser,
  app: RunningApp,
  role: UserRole,
  viewport: Viewport = LARGE
): Promise<{ page: Page, username: string }> {
  const { username, password } = await createUser(app, { role })
  const page = await newPanelPage(t, browser, app, viewport)
  await logIn(page, username, password)
  return { page, username }
}

/**
 * waitForSelector, whose timeout says what the panel showed instead: its link state (data-link), its toasts and
 * the start of its text, so that a failure seen once in CI explains itself.
 */
export async function waitForShown (page: Page, selector: string): Promise<void> {
  try {
    await page.waitForSelector(selector)
  } catch (err) {
    const seen = await page.evaluate(() => ({
      link: document.querySelector('[data-link]')?.getAttribute('data-link'),
      linkError: document.querySelector('[data-link]')?.getAttribute('title'),
      toasts: Array.from(document.querySelectorAll('.toast')).map(e => e.textContent),
      hidden: document.visibilityState,
      text: document.body.innerText.slice(0, 300)
    })).catch(() => 'page not readable')
    throw new Error(
      `${selector} not shown: ${(err as Error).message.split('\n')[0]}; the panel showed ${JSON.stringify(seen)}`
    )
  }
}

export async function showView (page: Page, view: string): Promise<void> {
  await page.click(`.nav-item[data-view=${view}]`)
  await page.waitForSelector(`[data-testid=view-${view}]`)
}

/** `artifacts/screenshots/<name>-<w>x<h>.png`, after checking nothing sticks out of the page horizontally. */
export async function screenshot (page: Page, name: string): Promise<{ file: string, overflow: string[] }> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const { width, height } = page.viewportSize() ?? LARGE
  const file = join(SCREENSHOT_DIR, `${name}-${width}x${height}.png`)
  // Fonts and the last render settle before the picture. A page in the background gets no animation frames (it
  // would wait forever): a frame or 100 ms, whichever comes first.
  await page.evaluate(async () => {
    await document.fonts.ready
    await Promise.race([new Promise(requestAnimationFrame), new Promise(resolve => setTimeout(resolve, 100))])
  })
  await page.screenshot({ path: file })
  return { file, overflow: await overflowing(page) }
}

/** Elements wider than the viewport or cut off at its right edge: what "no overflow, no clipped controls" rules out. */
export async function overflowing (page: Page): Promise<string[]> {
  return await page.evaluate(() => {
    const vw = document.documentElement.clientWidth
    const bad: string[] = []
    if (document.documentElement.scrollWidth > vw) {
      bad.push(`page scrolls horizontally (${document.documentElement.scrollWidth} > ${vw})`)
    }
    for (const el of Array.from(document.querySelectorAll('button, .card, .chip, .estop, input'))) {
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0) continue
      if (r.right > vw + 0.5 || r.left < -0.5) {
        bad.push(
          `${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]} ` +
            `"${(el.textContent ?? '').trim().slice(0, 30)}" ` +
            `spans ${Math.round(r.left)}..${Math.round(r.right)} of ${vw}`
        )
      }
    }
    return bad
  })
}

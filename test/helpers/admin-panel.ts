import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import type { Test } from 'tap'
import { LARGE, PHONE, SMALL, screenshot, showView, type Viewport } from './browser.js'

const require = createRequire(import.meta.url)
/** axe-core's browser build, evaluated in the page (nothing is fetched; the panel's CSP forbids inline scripts). */
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

interface AxeViolation { id: string, impact: string | null, help: string, nodes: Array<{ target: string[] }> }

/** axe-core over the page as it is: no violation of impact serious or critical (issue #20). */
export async function checkA11y (t: Test, page: Page, what: string): Promise<void> {
  if (await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'undefined')) {
    await page.evaluate(AXE)
  }
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: AxeViolation[] }> } }).axe
    const { violations } = await axe.run(document)
    return violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target) }))
  })
  const bad = violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
  t.same(bad, [], `${what}: no serious or critical accessibility violation`)
}

/**
 * The view at 800×480, 1280×800 and 390×844: a screenshot of each under artifacts/screenshots (git-ignored), and
 * nothing wider than the viewport (the page's scrollWidth within its clientWidth). Ends at LARGE.
 */
export async function checkLayouts (t: Test, page: Page, view: string, name: string): Promise<void> {
  for (const size of [SMALL, LARGE, PHONE] satisfies Viewport[]) {
    await page.setViewportSize(size)
    await showView(page, view)
    const { overflow } = await screenshot(page, name)
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth
    }))
    const at = `${name} at ${size.width}×${size.height}`
    t.ok(scrollWidth <= clientWidth, `${at}: scrollWidth ${scrollWidth} <= ${clientWidth}`)
    t.same(overflow, [], `${at}: nothing sticks out`)
  }
  await page.setViewportSize(LARGE)
}

/** The admin routes refuse everyone but admins: what a viewer's or operator's token gets. */
export async function statusAs (
  baseUrl: string, token: string, method: string, path: string, body?: unknown
): Promise<number> {
  const json = body === undefined ? {} : { 'content-type': 'application/json' }
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...json },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  await res.arrayBuffer()
  return res.status
}

/**
 * The active theme from the retained `autocore/config/theme` as CSS variables. The gateway publishes
 * `{name, version, colors, fonts, device_types}` (src/protocol/payloads.ts ThemePayload): the panel takes
 * `device_types.panel` when the theme has one, else the base style. The seeds' ThemeManager shape
 * (`{theme: {colors, style}}`) and camelCase keys are read too. Absent, empty or unreadable: the built-in dark
 * high-contrast theme (styles.css) stays. Only plain color values are taken; a text color that would be unreadable
 * on the background is left out, and the text on colored buttons is black or white, whichever reads better.
 * Font sizes are the panel's own (its touch layout is sized for them).
 */

const COLOR_VARS: Record<string, string> = {
  primary: '--primary',
  secondary: '--secondary',
  background: '--bg',
  surface: '--surface',
  success: '--ok',
  warning: '--warn',
  error: '--err',
  text_primary: '--text',
  text_secondary: '--text-dim'
}

const COLOR = /^(#[0-9a-f]{3,8}|rgba?\([\d\s.,%]+\)|hsla?\([\d\s.,%deg]+\))$/i
const FONT = /^[\w\s,'"-]{1,120}$/

const DARK_INK = '#05101c'
const LIGHT_INK = '#ffffff'

const snake = (k: string): string => k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`)

function obj (v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
}

function rgb (color: string): [number, number, number] | null {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color)?.[1]
  if (hex === undefined) return null
  const full = hex.length === 3 ? [...hex].map(c => c + c).join('') : hex
  return [0, 2, 4].map(i => parseInt(full.slice(i, i + 2), 16)) as [number, number, number]
}

/** WCAG contrast ratio of two #hex colors; null when either is not a hex color. */
export function contrast (a: string, b: string): number | null {
  const ca = rgb(a)
  const cb = rgb(b)
  if (ca === null || cb === null) return null
  const lum = ([r, g, bl]: [number, number, number]): number => {
    const f = (c: number): number => {
      const s = c / 255
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
    }
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(bl)
  }
  const [hi, lo] = [lum(ca), lum(cb)].sort((x, y) => y - x)
  return (hi + 0.05) / (lo + 0.05)
}

/** The CSS variables a theme payload sets (empty when it sets none). */
export function themeVars (payload: unknown): Record<string, string> {
  const root = obj(payload)
  const theme = obj(obj(root?.device_types)?.panel) ?? obj(root?.theme) ?? root
  const colors = obj(theme?.colors) ?? {}
  const style = { ...obj(theme?.fonts), ...obj(theme?.style) }
  const vars: Record<string, string> = {}
  for (const [k, v] of Object.entries(colors)) {
    const name = COLOR_VARS[snake(k)]
    if (name !== undefined && typeof v === 'string' && COLOR.test(v.trim())) vars[name] = v.trim()
  }
  for (const [k, v] of Object.entries(style)) {
    const key = snake(k)
    if ((key === 'font_family' || key === 'family') && typeof v === 'string' && FONT.test(v)) vars['--font'] = v
    if (key === 'border_radius' && typeof v === 'number' && v >= 0 && v <= 32) vars['--radius'] = `${v}px`
  }
  const bg = vars['--bg']
  for (const t of ['--text', '--text-dim']) {
    const c = vars[t] === undefined || bg === undefined ? null : contrast(vars[t], bg)
    if (c !== null && c < (t === '--text' ? 7 : 4.5)) delete vars[t]
  }
  // A light background without a readable text color of its own gets dark text rather than the default white.
  if (bg !== undefined && (contrast('#f4f6f8', bg) ?? 21) < 7) {
    vars['--text'] ??= '#0b0d10'
    vars['--text-dim'] ??= '#3a4450'
  }
  for (const name of ['--primary', '--ok', '--warn', '--err']) {
    const fill = vars[name]
    if (fill === undefined) continue
    // As text on the background and on cards: only when it reads there, else the built-in bright colour stays.
    const behind = [vars['--bg'] ?? '#07090c', vars['--surface'] ?? '#12171e']
    if (behind.every(b => (contrast(fill, b) ?? 0) >= 4.5)) vars[`${name}-ink`] = fill
    const dark = contrast(DARK_INK, fill) ?? 0
    const light = contrast(LIGHT_INK, fill) ?? 0
    if (dark > 0 || light > 0) vars[`--on-${name.slice(2)}`] = dark >= light ? DARK_INK : LIGHT_INK
  }
  return vars
}

/** Applies a theme on the document root, first removing what the previous one set. */
export function applyTheme (root: HTMLElement, vars: Record<string, string>, previous: string[]): string[] {
  for (const name of previous) root.style.removeProperty(name)
  for (const [name, value] of Object.entries(vars)) root.style.setProperty(name, value)
  const bg = vars['--bg']
  if (bg !== undefined) document.querySelector('meta[name="theme-color"]')?.setAttribute('content', bg)
  return Object.keys(vars)
}

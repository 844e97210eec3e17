import type { ThemePayload, ThemeStyle } from '../protocol/index.js'
import type { ThemeFields, ThemeOverride } from '../persistence/repositories/themes.js'

/**
 * The theme a fresh gateway starts with (after the seeds' ThemeManager): base colors and fonts, and per device
 * type adjustments. Small displays in a vehicle are read at a glance: larger text and higher contrast.
 */
export const DEFAULT_THEME: ThemeFields = {
  name: 'default',
  colors: {
    primary: '#2563EB',
    secondary: '#64748B',
    background: '#0F172A',
    surface: '#1E293B',
    success: '#16A34A',
    warning: '#F59E0B',
    error: '#DC2626',
    text_primary: '#F8FAFC',
    text_secondary: '#CBD5E1'
  },
  fonts: { family: 'Roboto, sans-serif', size_base: 14 },
  deviceOverrides: {
    display: { fonts: { size_base: 16 } },
    display_small: {
      fonts: { size_base: 18 },
      colors: { background: '#000000', surface: '#111111', text_primary: '#FFFFFF', text_secondary: '#E5E5E5' }
    }
  }
}

/** Base style with one device type's override merged over it (override keys win). */
export function mergeStyle (base: ThemeStyle, override: ThemeOverride): ThemeStyle {
  return { colors: { ...base.colors, ...override.colors }, fonts: { ...base.fonts, ...override.fonts } }
}

/**
 * The retained `autocore/config/theme` message of a theme: base style plus the merged style of each overridden type.
 */
export function themePayload (theme: ThemeFields & { updatedAt: number }): ThemePayload {
  const base: ThemeStyle = { colors: theme.colors, fonts: theme.fonts ?? {} }
  const deviceTypes: Record<string, ThemeStyle> = {}
  for (const [type, override] of Object.entries(theme.deviceOverrides ?? {})) {
    deviceTypes[type] = mergeStyle(base, override)
  }
  return {
    name: theme.name,
    version: theme.updatedAt,
    updated_at: new Date(theme.updatedAt).toISOString(),
    ...base,
    device_types: deviceTypes
  }
}

import type { ThemeFields } from '../../persistence/repositories/themes.js'
import { creates, pageOf, pageQuery, route, type Page, type RouteSpec } from '../route-table.js'

/** A key of a colors/fonts map or a device type: what firmware can use as an identifier. */
const key = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,31}$' }
const hex = {
  type: 'string',
  pattern: '^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$',
  description: 'a CSS hex color: #RGB, #RGBA, #RRGGBB or #RRGGBBAA'
}
const colorMap = (minProperties: number): Record<string, unknown> => ({
  type: 'object',
  minProperties,
  maxProperties: 64,
  propertyNames: key,
  additionalProperties: hex,
  description: 'color name → CSS hex color, e.g. {"primary": "#2563EB"}'
})
const fontValue = {
  anyOf: [
    { type: 'string', minLength: 1, maxLength: 128 },
    { type: 'number', minimum: 0, maximum: 1000 }
  ]
}
const fontMap = {
  type: 'object',
  maxProperties: 32,
  propertyNames: key,
  properties: {
    family: { type: 'string', minLength: 1, maxLength: 128 },
    size_base: { type: 'number', minimum: 6, maximum: 96 }
  },
  additionalProperties: fontValue,
  description: 'font settings, e.g. {"family": "Roboto, sans-serif", "size_base": 14}'
}
const overrides = {
  type: ['object', 'null'],
  maxProperties: 32,
  propertyNames: key,
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    properties: { colors: colorMap(0), fonts: fontMap }
  },
  description:
    'per device type (devices.type) adjustments merged over the base colors and fonts, e.g. {"display": {"fonts": ' +
      '{"size_base": 18}}}'
}
const fields = {
  name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\S(?:.*\\S)?$' },
  colors: colorMap(1),
  fonts: { ...fontMap, type: ['object', 'null'] },
  deviceOverrides: overrides
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } }
const theme = {
  type: 'object',
  required: ['id', 'name', 'isActive', 'version', 'colors', 'fonts', 'deviceOverrides', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'integer' },
    ...fields,
    isActive: { type: 'boolean' },
    version: {
      type: 'integer',
      description: 'the version devices see on autocore/config/theme (epoch ms of the last change)'
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' }
  }
}
const common = { tag: 'themes' } as const

/**
 * `/themes` (SPEC §3, §4): the active theme is retained on `autocore/config/theme` with its per device type
 * adjustments merged in; changing it or activating another re-publishes it (services/themes.ts).
 */
export const themeRoutes: RouteSpec[] = [
  route<unknown, Page>({
    ...common,
    id: 'themes.list',
    method: 'GET',
    path: '/themes',
    role: 'viewer',
    summary: 'Every theme',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(theme),
    handler: async (req, app) => ({
      ...(await app.themes.list(req.query)),
      limit: req.query.limit,
      offset: req.query.offset
    })
  }),
  route({
    ...common,
    id: 'themes.active',
    method: 'GET',
    path: '/themes/active',
    role: 'viewer',
    summary: 'The active theme (the one retained on autocore/config/theme)',
    response: theme,
    errors: ['GW_ERR_THEME_NOT_FOUND'],
    handler: async (_req, app) => await app.themes.active()
  }),
  route<{ id: number }>({
    ...common,
    id: 'themes.get',
    method: 'GET',
    path: '/themes/:id',
    role: 'viewer',
    summary: 'One theme',
    params: idParams,
    response: theme,
    errors: ['GW_ERR_THEME_NOT_FOUND'],
    handler: async (req, app) => await app.themes.get(req.params.id)
  }),
  route<unknown, unknown, Pick<ThemeFields, 'name' | 'colors'> & Partial<ThemeFields>>({
    ...common,
    ...creates,
    id: 'themes.create',
    path: '/themes',
    summary: 'Creates a theme (not active until activated)',
    body: { type: 'object', required: ['name', 'colors'], additionalProperties: false, properties: fields },
    response: theme,
    errors: ['GW_ERR_THEME_EXISTS'],
    handler: async (req, app) => {
      const b = req.body
      return await app.themes.create(
        { name: b.name, colors: b.colors, fonts: b.fonts ?? null, deviceOverrides: b.deviceOverrides ?? null },
        req.user.username
      )
    }
  }),
  route<{ id: number }, unknown, Partial<ThemeFields>>({
    ...common,
    id: 'themes.update',
    method: 'PATCH',
    path: '/themes/:id',
    role: 'admin',
    summary: 'Replaces the given fields; the active theme is re-published at once',
    params: idParams,
    body: { type: 'object', minProperties: 1, additionalProperties: false, properties: fields },
    response: theme,
    errors: ['GW_ERR_THEME_NOT_FOUND', 'GW_ERR_THEME_EXISTS'],
    handler: async (req, app) => await app.themes.update(req.params.id, req.body, req.user.username)
  }),
  route<{ id: number }>({
    ...common,
    id: 'themes.delete',
    method: 'DELETE',
    path: '/themes/:id',
    role: 'admin',
    status: 204,
    summary: 'Deletes a theme that is not the active one',
    params: idParams,
    errors: ['GW_ERR_THEME_NOT_FOUND', 'GW_ERR_THEME_ACTIVE'],
    handler: async (req, app) => { await app.themes.remove(req.params.id, req.user.username) }
  }),
  route<{ id: number }>({
    ...common,
    id: 'themes.activate',
    method: 'POST',
    path: '/themes/:id/activate',
    role: 'admin',
    summary: 'Makes the theme the active one and publishes it to every device',
    params: idParams,
    response: theme,
    errors: ['GW_ERR_THEME_NOT_FOUND'],
    handler: async (req, app) => await app.themes.activate(req.params.id, req.user.username)
  })
]

import { randomBytes } from 'node:crypto'
import type { ThemeView } from '../../../src/services/themes.js'
import type { Cases, Harness } from './harness.js'

const colors = { primary: '#112233', background: '#000' }
const missing = async (): Promise<{ params: { id: number } }> => ({ params: { id: 999999 } })

async function newTheme (h: Harness, name = `theme-${randomBytes(3).toString('hex')}`): Promise<ThemeView> {
  return await h.app.gateway.services.themes.create({ name, colors, fonts: null, deviceOverrides: null })
}

async function activeId (h: Harness): Promise<number> {
  return (await h.app.gateway.services.themes.active()).id
}

export const themeCases: Cases = {
  'themes.list': {
    happy: async h => {
      const t1 = await newTheme(h)
      return {
        check: (t, res) => {
          t.ok(res.body.items.some((x: ThemeView) => x.id === t1.id && x.name === t1.name))
        }
      }
    }
  },
  'themes.active': {
    happy: async () => ({ check: (t, res) => t.match(res.body, { isActive: true, name: String }) })
  },
  'themes.get': {
    happy: async h => {
      const t1 = await newTheme(h)
      return {
        params: { id: t1.id },
        check: (t, res) =>
          t.match(res.body, { id: t1.id, name: t1.name, isActive: false, colors, fonts: null, deviceOverrides: null })
      }
    },
    notFound: missing
  },
  'themes.create': {
    happy: async () => {
      const name = `created-${randomBytes(3).toString('hex')}`
      const body = {
        name,
        colors,
        fonts: { family: 'Inter', size_base: 15 },
        deviceOverrides: { display: { fonts: { size_base: 20 } } }
      }
      return { body, check: (t, res) => t.match(res.body, { ...body, id: Number, isActive: false, version: Number }) }
    },
    conflict: async h => ({ body: { name: (await newTheme(h)).name, colors } })
  },
  'themes.update': {
    happy: async h => {
      const t1 = await newTheme(h)
      return {
        params: { id: t1.id },
        body: { colors: { primary: '#ABCDEF' } },
        check: (t, res) => {
          t.match(res.body, { id: t1.id, name: t1.name, colors: { primary: '#ABCDEF' } })
          t.notOk('background' in res.body.colors, 'colors are replaced, not merged')
          t.ok(res.body.version > t1.version, 'the version grows')
        }
      }
    },
    notFound: async () => ({ params: { id: 999999 }, body: { colors } }),
    conflict: async h => ({ params: { id: (await newTheme(h)).id }, body: { name: (await newTheme(h)).name } })
  },
  'themes.delete': {
    happy: async h => {
      const t1 = await newTheme(h)
      return {
        params: { id: t1.id },
        check: async (t, res) => {
          t.equal(res.body, undefined)
          await t.rejects(h.app.gateway.services.themes.get(t1.id), { code: 'GW_ERR_THEME_NOT_FOUND' })
        }
      }
    },
    notFound: missing,
    conflict: async h => ({ params: { id: await activeId(h) } })
  },
  'themes.activate': {
    happy: async h => {
      const t1 = await newTheme(h)
      return {
        params: { id: t1.id },
        check: async (t, res) => {
          t.match(res.body, { id: t1.id, isActive: true })
          t.equal(await activeId(h), t1.id, 'the only active theme')
        }
      }
    },
    notFound: missing
  }
}

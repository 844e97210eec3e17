import type { Theme } from '../../entities/theme.js'
import { retainedMessages } from '../broker/retained.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import { GatewayError } from '../errors.js'
import { topicOf, type ConfigUpdatePayload } from '../protocol/index.js'
import type { Logger } from '../log.js'
import type { ThemesRepository, ThemeFields, ThemeOverride } from '../persistence/repositories/themes.js'
import { serialQueue, type SerialQueue } from './serial-queue.js'
import { DEFAULT_THEME, themePayload } from './theme-payload.js'

/** A theme as the API shows it. */
export interface ThemeView extends ThemeFields {
  id: number
  isActive: boolean
  /** What devices see as `version` on `autocore/config/theme` (epoch ms of the last change). */
  version: number
  createdAt: string
  updatedAt: string
}

type Deps = Pick<Services, 'log' | 'clock' | 'broker' | 'events' | 'repos'>

const ALL = 'themes'

function fieldsOf (t: Theme): ThemeFields & { updatedAt: number } {
  return {
    name: t.name,
    colors: t.colors,
    fonts: t.fonts as ThemeFields['fonts'],
    deviceOverrides: t.deviceOverrides as Record<string, ThemeOverride> | null,
    updatedAt: t.updatedAt
  }
}

export function themeView (t: Theme): ThemeView {
  const f = fieldsOf(t)
  return {
    id: t.id,
    name: f.name,
    isActive: t.isActive,
    version: t.updatedAt,
    colors: f.colors,
    fonts: f.fonts,
    deviceOverrides: f.deviceOverrides,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString()
  }
}

/**
 * Themes (SPEC §3, §4; the seeds' ThemeManager): the active theme is retained on `autocore/config/theme` (QoS 1)
 * with its per device type adjustments merged in (theme-payload.ts), so a device that boots gets it at once.
 * A change to the active theme, or activating another, re-publishes it after the commit and announces
 * `{scope: 'theme', name, version}` on `autocore/config/update`. A theme's version is its updated_at, kept above
 * every other theme's, so the published version only ever grows. Changes run one at a time, in call order.
 * At start, a gateway with no active theme gets the default one.
 */
export class ThemeService implements Service {
  readonly name = 'themes'
  private readonly repo: ThemesRepository
  private readonly log: Logger
  private readonly queue: SerialQueue

  constructor (private readonly deps: Deps) {
    this.repo = deps.repos.themes
    this.log = deps.log.child({ module: 'themes' })
    this.queue = serialQueue()
  }

  async start (): Promise<void> {
    await this.queue.run(ALL, async () => {
      const active = await this.repo.active() ?? await this.activateDefault()
      const want = Buffer.from(JSON.stringify(themePayload(fieldsOf(active))))
      const have = (await retainedMessages(this.deps.broker.aedes, topicOf('configTheme'))).get(topicOf('configTheme'))
      if (have?.equals(want) !== true) {
        await this.deps.broker.publish(topicOf('configTheme'), want, { qos: 1, retain: true })
      }
    })
  }

  async stop (): Promise<void> {
    await this.queue.idle()
  }

  async list (page: { limit: number, offset: number }): Promise<{ items: ThemeView[], total: number }> {
    const { items, total } = await this.repo.page(page)
    return { items: items.map(themeView), total }
  }

  async get (id: number): Promise<ThemeView> {
    return themeView(await this.theme(id))
  }

  async active (): Promise<ThemeView> {
    const t = await this.repo.active()
    if (t === undefined) throw new GatewayError('GW_ERR_THEME_NOT_FOUND', 'no theme is active')
    return themeView(t)
  }

  async create (fields: ThemeFields, username?: string): Promise<ThemeView> {
    return await this.queue.run(ALL, async () => {
      await this.nameFree(fields.name)
      const t = await this.repo.create(fields, await this.nextVersion())
      this.changed('created', t, username)
      return themeView(t)
    })
  }

  /** Replaces the given fields; re-published when the theme is the active one. */
  async update (id: number, patch: Partial<ThemeFields>, username?: string): Promise<ThemeView> {
    return await this.queue.run(ALL, async () => {
      const before = await this.theme(id)
      if (patch.name !== undefined && patch.name !== before.name) await this.nameFree(patch.name)
      await this.repo.update(id, patch, await this.nextVersion())
      const t = await this.theme(id)
      if (t.isActive) await this.publish(t)
      this.changed('updated', t, username)
      return themeView(t)
    })
  }

  /** Deletes a theme that is not the active one (409 for the active one: devices would be left without). */
  async remove (id: number, username?: string): Promise<void> {
    await this.queue.run(ALL, async () => {
      const t = await this.theme(id)
      if (t.isActive || !(await this.repo.deleteInactive(id))) {
        throw new GatewayError('GW_ERR_THEME_ACTIVE', `theme ${t.name} is the active theme; activate another first`)
      }
      this.changed('deleted', t, username)
    })
  }

  /** Makes the theme the active one and publishes it; activating the active theme changes nothing. */
  async activate (id: number, username?: string): Promise<ThemeView> {
    return await this.queue.run(ALL, async () => {
      const before = await this.theme(id)
      if (before.isActive) return themeView(before)
      await this.repo.activate(id, await this.nextVersion())
      const t = await this.theme(id)
      await this.publish(t)
      this.changed('activated', t, username)
      return themeView(t)
    })
  }

  private async theme (id: number): Promise<Theme> {
    const t = await this.repo.byId(id)
    if (t === undefined) throw new GatewayError('GW_ERR_THEME_NOT_FOUND', `no theme ${id}`)
    return t
  }

  private async nameFree (name: string): Promise<void> {
    if ((await this.repo.byName(name)) !== undefined) {
      throw new GatewayError('GW_ERR_THEME_EXISTS', `a theme named ${name} exists`)
    }
  }

  /** Now, or just above the latest version of any theme when the clock has not moved past it. */
  private async nextVersion (): Promise<number> {
    return Math.max(this.deps.clock.now(), await this.repo.latestVersion() + 1)
  }

  private async activateDefault (): Promise<Theme> {
    const t =
      (await this.repo.byName(DEFAULT_THEME.name)) ?? (await this.repo.create(DEFAULT_THEME, await this.nextVersion()))
    await this.repo.activate(t.id, await this.nextVersion())
    this.log.info({ theme: t.name }, 'no active theme: activated the default one')
    return await this.theme(t.id)
  }

  /** After the commit: the retained theme, then the announcement. */
  private async publish (t: Theme): Promise<void> {
    const payload = themePayload(fieldsOf(t))
    await this.deps.broker.publish(topicOf('configTheme'), payload, { qos: 1, retain: true })
    const update: ConfigUpdatePayload = { scope: 'theme', name: payload.name, version: payload.version }
    await this.deps.broker.publish(topicOf('configUpdate'), update, { qos: 1 })
  }

  private changed (action: 'created' | 'updated' | 'deleted' | 'activated', t: Theme, username?: string): void {
    this.log.info({ theme: t.name, id: t.id, action, username }, 'theme changed')
    void this.deps.events.log({
      level: 'info',
      type: 'theme_changed',
      source: 'api',
      action,
      target: t.name,
      username,
      payload: { id: t.id, version: t.updatedAt, active: t.isActive }
    })
  }
}

import type { DataSource, Repository } from 'typeorm'
import { Theme } from '../../../entities/theme.js'

export interface ThemeFields {
  name: string
  colors: Record<string, string>
  fonts: Record<string, string | number> | null
  deviceOverrides: Record<string, ThemeOverride> | null
}

/** One device type's adjustments: colors and fonts merged over the theme's base ones. */
export type ThemeOverride = { colors?: Record<string, string>, fonts?: Record<string, string | number> }

/** The only code touching TypeORM for `themes`. Timestamps (and so versions) come from the caller. */
export class ThemesRepository {
  private readonly repo: Repository<Theme>
  constructor (private readonly ds: DataSource) {
    this.repo = ds.getRepository(Theme)
  }

  async page (page: { limit: number, offset: number }): Promise<{ items: Theme[], total: number }> {
    const [items, total] = await this.repo.findAndCount({ order: { id: 'ASC' }, skip: page.offset, take: page.limit })
    return { items, total }
  }

  async byId (id: number): Promise<Theme | undefined> {
    return (await this.repo.findOneBy({ id })) ?? undefined
  }

  async byName (name: string): Promise<Theme | undefined> {
    return (await this.repo.findOneBy({ name })) ?? undefined
  }

  async active (): Promise<Theme | undefined> {
    return (await this.repo.findOne({ where: { isActive: true }, order: { id: 'ASC' } })) ?? undefined
  }

  /** The latest updated_at of any theme (0 when there is none): theme versions are kept above it. */
  async latestVersion (): Promise<number> {
    return Number(await this.repo.maximum('updatedAt') ?? 0)
  }

  async create (fields: ThemeFields, now: number): Promise<Theme> {
    return await this.repo.save(this.repo.create({ ...fields, isActive: false, createdAt: now, updatedAt: now }))
  }

  /** True when the theme exists. */
  async update (id: number, patch: Partial<ThemeFields>, now: number): Promise<boolean> {
    const res = await this.repo.update({ id }, { ...patch, updatedAt: now })
    return (res.affected ?? 0) > 0
  }

  /** Deletes the theme unless it is the active one; true when a row went. */
  async deleteInactive (id: number): Promise<boolean> {
    const res = await this.repo.delete({ id, isActive: false })
    return (res.affected ?? 0) > 0
  }

  /** Makes `id` the only active theme in one statement (so there is never none or two); true when it exists. */
  async activate (id: number, now: number): Promise<boolean> {
    if (await this.byId(id) === undefined) return false
    await this.ds
      .createQueryBuilder()
      .update(Theme)
      .set({
        isActive: () => 'CASE WHEN id = :id THEN TRUE ELSE FALSE END',
        updatedAt: () => 'CASE WHEN id = :id THEN :now ELSE updated_at END'
      })
      .setParameters({ id, now })
      .execute()
    return true
  }
}

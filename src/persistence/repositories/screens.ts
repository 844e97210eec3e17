import { In, Not, type DataSource } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import { RelayChannel, Screen, ScreenItem } from '../../../entities/index.js'

export type ScreenFields = Pick<Screen, 'name' | 'title' | 'deviceType' | 'position' | 'enabled'>
export type ScreenItemFields = Pick<
  ScreenItem,
  'itemType' | 'label' | 'position' | 'relayChannelId' | 'mutexGroup' | 'action' | 'dataSource' | 'style'
>

interface Page { limit: number, offset: number }

/** `screens` and their `screen_items` (the panels' layouts). */
export class ScreensRepository {
  constructor (private readonly ds: DataSource) {}

  private get screens () { return this.ds.getRepository(Screen) }
  private get items () { return this.ds.getRepository(ScreenItem) }

  async list (page: Page): Promise<{ rows: Screen[], total: number }> {
    const [rows, total] = await this.screens.findAndCount({
      order: { position: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.limit
    })
    return { rows, total }
  }

  /** Every screen, in order (a vehicle has a handful). */
  async all (): Promise<Screen[]> {
    return await this.screens.find({ order: { position: 'ASC', id: 'ASC' } })
  }

  async byId (id: number): Promise<Screen | undefined> {
    return (await this.screens.findOneBy({ id })) ?? undefined
  }

  async create (fields: ScreenFields): Promise<number> {
    return (await this.screens.insert(fields)).identifiers[0].id as number
  }

  /** True when the screen exists. */
  async update (id: number, patch: Partial<ScreenFields>): Promise<boolean> {
    return ((await this.screens.update({ id }, patch)).affected ?? 0) > 0
  }

  /** True when a screen was deleted (its items with it). */
  async delete (id: number): Promise<boolean> {
    return ((await this.screens.delete({ id })).affected ?? 0) > 0
  }

  async itemsOf (screenId: number, page: Page): Promise<{ rows: ScreenItem[], total: number }> {
    const [rows, total] = await this.items.findAndCount({
      where: { screenId },
      order: { position: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.limit
    })
    return { rows, total }
  }

  /** Every item of a screen, in order (a screen holds tens, not thousands). */
  async allItemsOf (screenId: number): Promise<ScreenItem[]> {
    return await this.items.find({ where: { screenId }, order: { position: 'ASC', id: 'ASC' } })
  }

  async item (id: number): Promise<ScreenItem | undefined> {
    return (await this.items.findOneBy({ id })) ?? undefined
  }

  async createItem (screenId: number, fields: ScreenItemFields): Promise<number> {
    return (await this.items.insert({ ...fields, screenId } as QueryDeepPartialEntity<ScreenItem>)).identifiers[0]
      .id as number
  }

  /** True when the item exists. */
  async updateItem (id: number, patch: Partial<ScreenItemFields>): Promise<boolean> {
    return ((await this.items.update({ id }, patch as QueryDeepPartialEntity<ScreenItem>)).affected ?? 0) > 0
  }

  async deleteItem (id: number): Promise<boolean> {
    return ((await this.items.delete({ id })).affected ?? 0) > 0
  }

  /** The other items of a screen-item mutex group (on any screen: the group names one set of controls). */
  async groupOthers (group: string, exceptId: number): Promise<ScreenItem[]> {
    return await this.items.find({ where: { mutexGroup: group, id: Not(exceptId) }, order: { id: 'ASC' } })
  }

  /** Items bound to any of these relay channels. */
  async boundTo (channelIds: number[]): Promise<ScreenItem[]> {
    if (channelIds.length === 0) return []
    return await this.items.find({ where: { relayChannelId: In(channelIds) }, order: { id: 'ASC' } })
  }

  async channelExists (id: number): Promise<boolean> {
    return await this.ds.getRepository(RelayChannel).existsBy({ id })
  }
}

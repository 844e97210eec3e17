import { userActor } from '../../auth/actor.js'
import type { Screen, ScreenItem } from '../../../entities/index.js'
import { GatewayError } from '../../errors.js'
import type { ScreenFields, ScreenItemFields } from '../../persistence/repositories/screens.js'
import {
  creates, pageOf, pageQuery, route, type ApiDeps, type ApiRequest, type Page, type RouteSpec
} from '../route-table.js'
import { idParams, patchOf } from '../schemas.js'
import { commandResult } from './relay-schemas.js'
import { commandAnswer } from './relays.js'
import { screenSchema, screenBody, itemSchema, itemBody, screenJson, itemJson } from './screens-schemas.js'

async function screenFound (deps: ApiDeps, id: number): Promise<Screen> {
  const s = await deps.repos.screens.byId(id)
  if (s === undefined) throw new GatewayError('GW_ERR_SCREEN_NOT_FOUND', `no screen ${id}`)
  return s
}

async function itemFound (deps: ApiDeps, id: number): Promise<ScreenItem> {
  const i = await deps.repos.screens.item(id)
  if (i === undefined) throw new GatewayError('GW_ERR_SCREEN_ITEM_NOT_FOUND', `no screen item ${id}`)
  return i
}

async function checkChannel (deps: ApiDeps, id: number | null | undefined): Promise<void> {
  if (id != null && !(await deps.repos.screens.channelExists(id))) {
    throw new GatewayError('GW_ERR_RELAY_NOT_FOUND', `no relay channel ${id}`)
  }
}

/**
 * Activates an item: its relay action goes to the RelayService (emergency lockout, the channel's own mutex group,
 * limits). The item's mutex_group is honoured by the same rule even where it is no relay mutex group: the channels
 * of the group's other items are passed as `exclusive`, so they are turned off (and must acknowledge) before this
 * one goes on, and activations of one group run one at a time. `deactivated` lists the other items of the group and
 * the items bound to any channel turned off.
 */
async function activate (
  deps: ApiDeps,
  itemId: number,
  user: ApiRequest<unknown, unknown, unknown>['user'],
  ip: string
): Promise<Record<string, unknown>> {
  const item = await itemFound(deps, itemId)
  if (item.relayChannelId === null) {
    throw new GatewayError('GW_ERR_SCREEN_ITEM_UNBOUND', `screen item ${itemId} has no relay channel`)
  }
  const ch = await deps.relays.channelById(item.relayChannelId)
  if (ch === undefined) throw new GatewayError('GW_ERR_RELAY_NOT_FOUND', `no relay channel ${item.relayChannelId}`)
  const others = item.mutexGroup === null ? [] : await deps.repos.screens.groupOthers(item.mutexGroup, item.id)
  const channelIds = others.map(o => o.relayChannelId).filter((id): id is number => id !== null)
  const action = item.action as { relayAction?: 'on' | 'toggle' | 'pulse', durationMs?: number } | null
  const r = await deps.relays.setChannel({
    deviceUuid: ch.deviceUuid,
    channel: ch.channelNumber,
    action: action?.relayAction ?? 'on',
    durationMs: action?.durationMs,
    user: user.username,
    actor: userActor(user, ip),
    source: 'api',
    exclusive: item.mutexGroup === null ? undefined : { group: item.mutexGroup, channelIds }
  })
  const deactivated = new Set(
    [...others, ...(await deps.repos.screens.boundTo(r.turnedOff))].map(i => i.id).filter(id => id !== item.id)
  )
  return {
    itemId: item.id,
    ...(await commandAnswer(deps, ch.id, r)),
    deactivated: [...deactivated].sort((a, b) => a - b)
  }
}

const screens = { tag: 'screens' } as const

/** `/screens` and their items: the panels' layouts (admin edits, viewers read) and item activation (operator). */
export const screensRoutes: RouteSpec[] = [
  route<unknown, Page>({
    ...screens,
    id: 'screens.list',
    method: 'GET',
    path: '/screens',
    role: 'viewer',
    summary: 'Screens, by position',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(screenSchema),
    handler: async (req, deps) => {
      const { rows, total } = await deps.repos.screens.list(req.query)
      return { items: rows.map(screenJson), total, limit: req.query.limit, offset: req.query.offset }
    }
  }),
  route<{ id: number }>({
    ...screens,
    id: 'screens.get',
    method: 'GET',
    path: '/screens/:id',
    role: 'viewer',
    summary: 'One screen with all its items, by position',
    params: idParams('id'),
    response: {
      ...screenSchema,
      required: [...(screenSchema.required as string[]), 'items'],
      properties: { ...(screenSchema.properties as object), items: { type: 'array', items: itemSchema } }
    },
    errors: ['GW_ERR_SCREEN_NOT_FOUND'],
    handler: async (req, deps) => {
      const s = await screenFound(deps, req.params.id)
      return { ...screenJson(s), items: (await deps.repos.screens.allItemsOf(s.id)).map(itemJson) }
    }
  }),
  route<unknown, unknown, Pick<ScreenFields, 'name' | 'title'> & Partial<ScreenFields>>({
    ...screens,
    ...creates,
    id: 'screens.create',
    path: '/screens',
    summary: 'Create a screen',
    body: screenBody,
    response: screenSchema,
    handler: async (req, deps) => {
      const id = await deps.repos.screens.create({ deviceType: null, position: 0, enabled: true, ...req.body })
      await deps.screens.changed(id)
      return screenJson(await screenFound(deps, id))
    }
  }),
  route<{ id: number }, unknown, Partial<ScreenFields>>({
    ...screens,
    id: 'screens.update',
    method: 'PATCH',
    path: '/screens/:id',
    role: 'admin',
    summary: 'Change a screen',
    params: idParams('id'),
    body: patchOf(screenBody),
    response: screenSchema,
    errors: ['GW_ERR_SCREEN_NOT_FOUND'],
    handler: async (req, deps) => {
      if (!(await deps.repos.screens.update(req.params.id, req.body))) {
        throw new GatewayError('GW_ERR_SCREEN_NOT_FOUND', `no screen ${req.params.id}`)
      }
      await deps.screens.changed(req.params.id)
      return screenJson(await screenFound(deps, req.params.id))
    }
  }),
  route<{ id: number }>({
    ...screens,
    id: 'screens.delete',
    method: 'DELETE',
    path: '/screens/:id',
    role: 'admin',
    summary: 'Delete a screen and its items',
    params: idParams('id'),
    status: 204,
    errors: ['GW_ERR_SCREEN_NOT_FOUND'],
    handler: async (req, deps) => {
      if (!(await deps.repos.screens.delete(req.params.id))) {
        throw new GatewayError('GW_ERR_SCREEN_NOT_FOUND', `no screen ${req.params.id}`)
      }
      await deps.screens.changed(req.params.id)
    }
  }),
  route<{ id: number }, Page>({
    ...screens,
    id: 'screens.items.list',
    method: 'GET',
    path: '/screens/:id/items',
    role: 'viewer',
    summary: 'A screen\'s items, by position',
    params: idParams('id'),
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(itemSchema),
    errors: ['GW_ERR_SCREEN_NOT_FOUND'],
    handler: async (req, deps) => {
      await screenFound(deps, req.params.id)
      const { rows, total } = await deps.repos.screens.itemsOf(req.params.id, req.query)
      return { items: rows.map(itemJson), total, limit: req.query.limit, offset: req.query.offset }
    }
  }),
  route<{ id: number }, unknown, Pick<ScreenItemFields, 'itemType' | 'label'> & Partial<ScreenItemFields>>({
    ...screens,
    ...creates,
    id: 'screens.items.create',
    path: '/screens/:id/items',
    summary: 'Add an item to a screen',
    params: idParams('id'),
    body: itemBody,
    response: itemSchema,
    errors: ['GW_ERR_SCREEN_NOT_FOUND', 'GW_ERR_RELAY_NOT_FOUND'],
    handler: async (req, deps) => {
      await screenFound(deps, req.params.id)
      await checkChannel(deps, req.body.relayChannelId)
      const fields: ScreenItemFields = {
        position: 0,
        relayChannelId: null,
        mutexGroup: null,
        action: null,
        dataSource: null,
        style: null,
        ...req.body
      }
      const item = await itemFound(deps, await deps.repos.screens.createItem(req.params.id, fields))
      await deps.screens.changed(req.params.id)
      return itemJson(item)
    }
  }),
  route<{ itemId: number }>({
    ...screens,
    id: 'screens.items.get',
    method: 'GET',
    path: '/screens/items/:itemId',
    role: 'viewer',
    summary: 'One screen item',
    params: idParams('itemId'),
    response: itemSchema,
    errors: ['GW_ERR_SCREEN_ITEM_NOT_FOUND'],
    handler: async (req, deps) => itemJson(await itemFound(deps, req.params.itemId))
  }),
  route<{ itemId: number }, unknown, Partial<ScreenItemFields>>({
    ...screens,
    id: 'screens.items.update',
    method: 'PATCH',
    path: '/screens/items/:itemId',
    role: 'admin',
    summary: 'Change a screen item',
    params: idParams('itemId'),
    body: patchOf(itemBody),
    response: itemSchema,
    errors: ['GW_ERR_SCREEN_ITEM_NOT_FOUND', 'GW_ERR_RELAY_NOT_FOUND'],
    handler: async (req, deps) => {
      await itemFound(deps, req.params.itemId)
      await checkChannel(deps, req.body.relayChannelId)
      await deps.repos.screens.updateItem(req.params.itemId, req.body)
      const item = await itemFound(deps, req.params.itemId)
      await deps.screens.changed(item.screenId)
      return itemJson(item)
    }
  }),
  route<{ itemId: number }>({
    ...screens,
    id: 'screens.items.delete',
    method: 'DELETE',
    path: '/screens/items/:itemId',
    role: 'admin',
    summary: 'Delete a screen item',
    params: idParams('itemId'),
    status: 204,
    errors: ['GW_ERR_SCREEN_ITEM_NOT_FOUND'],
    handler: async (req, deps) => {
      const item = await itemFound(deps, req.params.itemId)
      if (!(await deps.repos.screens.deleteItem(req.params.itemId))) {
        throw new GatewayError('GW_ERR_SCREEN_ITEM_NOT_FOUND', `no screen item ${req.params.itemId}`)
      }
      await deps.screens.changed(item.screenId)
    }
  }),
  route<{ itemId: number }>({
    ...screens,
    id: 'screens.items.activate',
    method: 'POST',
    path: '/screens/items/:itemId/activate',
    role: 'operator',
    summary:
      "Activate an item: its relay action, the other items of its mutex group (and of its channel's relay group) off " +
        'first',
    params: idParams('itemId'),
    response: {
      ...commandResult,
      required: [...commandResult.required, 'itemId', 'deactivated'],
      properties: {
        ...commandResult.properties,
        itemId: { type: 'integer' },
        deactivated: { type: 'array', items: { type: 'integer' }, description: 'other items now off' }
      }
    },
    errors: [
      'GW_ERR_SCREEN_ITEM_NOT_FOUND',
      'GW_ERR_SCREEN_ITEM_UNBOUND',
      'GW_ERR_RELAY_NOT_FOUND',
      'GW_ERR_RELAY_DISABLED',
      'GW_ERR_RELAY_MUTEX_FAILED',
      'GW_ERR_RELAY_BAD_REQUEST',
      'GW_ERR_EMERGENCY_ACTIVE'
    ],
    handler: async (req, deps) => await activate(deps, req.params.itemId, req.user, req.ip)
  })
]

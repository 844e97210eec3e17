// The schemas and JSON views of /screens and their items (routes in screens.ts).
import type { Screen, ScreenItem } from '../../../entities/index.js'
import { type Schema } from '../route-table.js'
import { nullable, record } from '../schemas.js'

export const json = { type: ['object', 'null'] }

export const screenProps = {
  name: { type: 'string', minLength: 1, maxLength: 64 },
  title: { type: 'string', minLength: 1, maxLength: 128 },
  deviceType: {
    ...nullable({ type: 'string', minLength: 1, maxLength: 32 }),
    description: 'only devices of this type show it; null: all'
  },
  position: { type: 'integer', minimum: 0, maximum: 100_000 },
  enabled: { type: 'boolean' }
}
export const screenSchema = record({
  id: { type: 'integer' },
  name: { type: 'string' },
  title: { type: 'string' },
  deviceType: { type: ['string', 'null'] },
  position: { type: 'integer' },
  enabled: { type: 'boolean' }
})
export const screenBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'title'],
  properties: screenProps
}

export const itemProps = {
  itemType: { type: 'string', minLength: 1, maxLength: 32, description: 'button, switch, gauge, display, ...' },
  label: { type: 'string', minLength: 1, maxLength: 128 },
  position: { type: 'integer', minimum: 0, maximum: 100_000 },
  relayChannelId: { ...nullable({ type: 'integer', minimum: 1 }), description: 'the relay channel the item controls' },
  mutexGroup: {
    ...nullable({ type: 'string', minLength: 1, maxLength: 64 }),
    description: 'items of a group are never on together (see activate)'
  },
  action: {
    type: ['object', 'null'],
    description: 'free-form for the panel; activate reads relayAction (default on) and durationMs',
    properties: {
      relayAction: { type: 'string', enum: ['on', 'toggle', 'pulse'] },
      durationMs: { type: 'integer', minimum: 1, maximum: 86_400_000 }
    }
  },
  dataSource: { ...json, description: 'free-form: what a gauge or display shows' },
  style: { ...json, description: 'free-form' }
}
export const itemSchema = record({
  id: { type: 'integer' },
  screenId: { type: 'integer' },
  itemType: { type: 'string' },
  label: { type: 'string' },
  position: { type: 'integer' },
  relayChannelId: { type: ['integer', 'null'] },
  mutexGroup: { type: ['string', 'null'] },
  action: json,
  dataSource: json,
  style: json
})
export const itemBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['itemType', 'label'],
  properties: itemProps
}

export function screenJson (s: Screen): Record<string, unknown> {
  return { id: s.id, name: s.name, title: s.title, deviceType: s.deviceType, position: s.position, enabled: s.enabled }
}

export function itemJson (i: ScreenItem): Record<string, unknown> {
  return {
    id: i.id,
    screenId: i.screenId,
    itemType: i.itemType,
    label: i.label,
    position: i.position,
    relayChannelId: i.relayChannelId,
    mutexGroup: i.mutexGroup,
    action: i.action,
    dataSource: i.dataSource,
    style: i.style
  }
}

import { userActor } from '../../auth/actor.js'
import type { MacroRun } from '../../../entities/index.js'
import { GatewayError } from '../../errors.js'
import type { MacroFields, MacroWithActions, NewMacroAction } from '../../persistence/repositories/macros.js'
import { macroActionSchema } from '../../services/macro-schema.js'
import { mayPublish } from '../../services/macro-steps.js'
import {
  creates,
  getById, pageOf, pageQuery, route, type ApiDeps, type Page, type RouteSpec, type Schema
} from '../route-table.js'
import { fieldError, idParams, iso, nullable, patchOf, record } from '../schemas.js'

const macroSchema = record({
  id: { type: 'integer' },
  name: { type: 'string' },
  description: { type: ['string', 'null'] },
  enabled: { type: 'boolean' },
  actions: {
    type: 'array',
    items: record({ type: { type: 'string' }, params: { type: 'object' }, condition: { type: ['object', 'null'] } })
  },
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' }
})

const runSchema = record({
  id: { type: 'integer' },
  macroId: { type: 'integer' },
  status: { type: 'string', enum: ['running', 'completed', 'cancelled', 'failed', 'interrupted'] },
  startedAt: { type: 'string', format: 'date-time' },
  finishedAt: { type: ['string', 'null'], format: 'date-time' },
  currentStep: { type: 'integer', description: '1-based; 0 before the first step' },
  message: { type: ['string', 'null'] },
  username: { type: ['string', 'null'] },
  source: { type: 'string', description: 'api, mqtt, ...' }
})

const createBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'actions'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128 },
    description: nullable({ type: 'string', maxLength: 2000 }),
    enabled: { type: 'boolean' },
    // The engine's own action schema (services/macro-schema.ts): what is accepted here is what the engine runs.
    actions: { type: 'array', maxItems: 200, items: macroActionSchema }
  }
}
type Body = { name: string, description?: string | null, enabled?: boolean, actions: NewMacroAction[] }

function macroJson ({ macro, actions }: MacroWithActions): Record<string, unknown> {
  return {
    id: macro.id,
    name: macro.name,
    description: macro.description,
    enabled: macro.enabled,
    actions: actions.map(a => ({ type: a.actionType, params: a.params, condition: a.condition ?? null })),
    createdAt: iso(macro.createdAt),
    updatedAt: iso(macro.updatedAt)
  }
}

function runJson (r: MacroRun): Record<string, unknown> {
  return {
    id: r.id,
    macroId: r.macroId,
    status: r.status,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    currentStep: r.currentStep,
    message: r.message,
    username: r.username,
    source: r.source
  }
}

async function found (deps: ApiDeps, id: number): Promise<MacroWithActions> {
  const m = await deps.repos.macros.macro(id)
  if (m === undefined) throw new GatewayError('GW_ERR_MACRO_NOT_FOUND', `no macro ${id}`)
  return m
}

/** The engine refuses an mqtt_publish outside macros.publishTopics at run time; a macro that has one is refused now. */
function checkTopics (deps: ApiDeps, actions: NewMacroAction[] | undefined): void {
  actions?.forEach((a, i) => {
    if (a.type === 'mqtt_publish' && !mayPublish(deps.config.macros.publishTopics, String(a.params.topic))) {
      throw fieldError(`/actions/${i}/params/topic`, 'is not a topic macros may publish to (macros.publishTopics)')
    }
  })
}

const common = { tag: 'macros' } as const
const byId = { params: idParams('id') } as const

/**
 * `/macros`: CRUD (admin), runs (operator) through the MacroService that `autocore/macros/{id}/run` uses: one run
 * per macro (409), refused during an emergency (423). A cancel waits for the run to stop and answers it.
 */
export const macrosRoutes: RouteSpec[] = [
  route<unknown, Page>({
    ...common,
    id: 'macros.list',
    method: 'GET',
    path: '/macros',
    role: 'viewer',
    summary: 'Macros with their actions',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(macroSchema),
    handler: async (req, deps) => {
      const { rows, total } = await deps.repos.macros.list(req.query)
      return { items: rows.map(macroJson), total, limit: req.query.limit, offset: req.query.offset }
    }
  }),
  getById({
    ...common,
    id: 'macros.get',
    path: '/macros/:id',
    summary: 'One macro with its actions',
    response: macroSchema,
    errors: ['GW_ERR_MACRO_NOT_FOUND'],
    load: found,
    view: macroJson
  }),
  route<unknown, unknown, Body>({
    ...common,
    ...creates,
    id: 'macros.create',
    path: '/macros',
    summary: 'Create a macro: ordered actions relay | command | mqtt_publish | delay, each with an optional condition',
    body: createBody,
    response: macroSchema,
    errors: ['GW_ERR_MACRO_EXISTS'],
    handler: async (req, deps) => {
      checkTopics(deps, req.body.actions)
      const fields: MacroFields = { description: null, enabled: true, ...req.body }
      const id = await deps.repos.macros.create(fields, deps.clock.now())
      if (id === undefined) throw new GatewayError('GW_ERR_MACRO_EXISTS', `a macro named ${req.body.name} exists`)
      return macroJson(await found(deps, id))
    }
  }),
  route<{ id: number }, unknown, Partial<Body>>({
    ...common,
    ...byId,
    id: 'macros.update',
    method: 'PATCH',
    path: '/macros/:id',
    role: 'admin',
    summary: 'Change a macro; actions, when given, replace the old ones (a running run keeps the ones it started with)',
    body: patchOf(createBody),
    response: macroSchema,
    errors: ['GW_ERR_MACRO_NOT_FOUND', 'GW_ERR_MACRO_EXISTS'],
    handler: async (req, deps) => {
      await found(deps, req.params.id)
      checkTopics(deps, req.body.actions)
      if (!await deps.repos.macros.update(req.params.id, req.body, deps.clock.now())) {
        throw new GatewayError('GW_ERR_MACRO_EXISTS', `a macro named ${String(req.body.name)} exists`)
      }
      return macroJson(await found(deps, req.params.id))
    }
  }),
  route<{ id: number }>({
    ...common,
    ...byId,
    id: 'macros.delete',
    method: 'DELETE',
    path: '/macros/:id',
    role: 'admin',
    summary: 'Delete a macro and its runs; a running run is cancelled first',
    status: 204,
    errors: ['GW_ERR_MACRO_NOT_FOUND'],
    handler: async (req, deps) => {
      await found(deps, req.params.id)
      await deps.macros.cancelAndWait(req.params.id, `macro deleted by ${req.user.username}`)
      if (!(await deps.repos.macros.delete(req.params.id))) {
        throw new GatewayError('GW_ERR_MACRO_NOT_FOUND', `no macro ${req.params.id}`)
      }
    }
  }),
  route<{ id: number }>({
    ...common,
    ...byId,
    id: 'macros.execute',
    method: 'POST',
    path: '/macros/:id/execute',
    role: 'operator',
    summary: 'Start a run (one per macro at a time); follow it with GET /macros/:id/runs',
    status: 202,
    response: record({
      runId: { type: 'integer' },
      macroId: { type: 'integer' },
      status: { type: 'string', enum: ['running'] }
    }),
    errors: ['GW_ERR_MACRO_NOT_FOUND', 'GW_ERR_MACRO_DISABLED', 'GW_ERR_MACRO_RUNNING', 'GW_ERR_EMERGENCY_ACTIVE'],
    handler: async (req, deps) => {
      const started = await deps.macros.run({
        macroId: req.params.id,
        user: req.user.username,
        source: 'api',
        actor: userActor(req.user, req.ip)
      })
      void started.done.catch(err => deps.log.error({ err, macroId: req.params.id }, 'macro run failed to finish'))
      return { runId: started.runId, macroId: req.params.id, status: 'running' }
    }
  }),
  route<{ id: number }>({
    ...common,
    ...byId,
    id: 'macros.cancel',
    method: 'POST',
    path: '/macros/:id/cancel',
    role: 'operator',
    summary: 'Cancel the macro\'s running run; answers the run once it has stopped (409 when none runs)',
    response: runSchema,
    errors: ['GW_ERR_MACRO_NOT_FOUND', 'GW_ERR_MACRO_NOT_RUNNING'],
    handler: async (req, deps) => {
      await found(deps, req.params.id)
      const runId = await deps.macros.cancelAndWait(
        req.params.id,
        `cancelled by ${req.user.username}`,
        userActor(req.user, req.ip)
      )
      const run = runId === undefined ? null : await deps.repos.macros.run(runId)
      if (run === null) throw new GatewayError('GW_ERR_MACRO_NOT_RUNNING', `macro ${req.params.id} has no running run`)
      return runJson(run)
    }
  }),
  route<{ id: number }, Page>({
    ...common,
    ...byId,
    id: 'macros.runs',
    method: 'GET',
    path: '/macros/:id/runs',
    role: 'viewer',
    summary: 'The macro\'s runs, newest first',
    query: { type: 'object', additionalProperties: false, properties: { ...pageQuery } },
    response: pageOf(runSchema),
    errors: ['GW_ERR_MACRO_NOT_FOUND'],
    handler: async (req, deps) => {
      await found(deps, req.params.id)
      const { rows, total } = await deps.repos.macros.runs(req.params.id, req.query)
      return { items: rows.map(runJson), total, limit: req.query.limit, offset: req.query.offset }
    }
  })
]

import { In, Not, type DataSource, type EntityManager } from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js'
import {
  Device,
  Macro,
  MacroAction,
  MacroRun,
  TelemetryData,
  type MacroActionType,
  type MacroRunStatus
} from '../../../entities/index.js'
import { unlessDuplicate } from './sql.js'

export interface NewMacroAction {
  type: MacroActionType
  params: Record<string, unknown>
  condition?: Record<string, unknown> | null
}
export interface MacroFields { name: string, description: string | null, enabled: boolean, actions: NewMacroAction[] }
export type MacroWithActions = { macro: Macro, actions: MacroAction[] }

/** `macros`, `macro_actions`, `macro_runs`, and the telemetry a condition reads. */
export class MacrosRepository {
  constructor (private readonly ds: DataSource) {}

  async macro (id: number): Promise<{ macro: Macro, actions: MacroAction[] } | undefined> {
    const macro = await this.ds.getRepository(Macro).findOne({ where: { id } })
    if (macro === null) return undefined
    const actions = await this.ds
      .getRepository(MacroAction)
      .find({ where: { macroId: id }, order: { position: 'ASC', id: 'ASC' } })
    return { macro, actions }
  }

  /** A page of macros by id, each with its ordered actions. */
  async list (page: { limit: number, offset: number }): Promise<{ rows: MacroWithActions[], total: number }> {
    const [macros, total] = await this.ds
      .getRepository(Macro)
      .findAndCount({ order: { id: 'ASC' }, skip: page.offset, take: page.limit })
    const actions =
      macros.length === 0
        ? []
        : await this.ds
          .getRepository(MacroAction)
          .find({ where: { macroId: In(macros.map(m => m.id)) }, order: { position: 'ASC', id: 'ASC' } })
    return { rows: macros.map(macro => ({ macro, actions: actions.filter(a => a.macroId === macro.id) })), total }
  }

  /** The new macro's id, or undefined when the name is taken. One transaction with its actions. */
  async create (fields: MacroFields, now: number): Promise<number | undefined> {
    if (await this.nameTaken(fields.name)) return undefined
    return await unlessDuplicate(async () => await this.ds.transaction(async m => {
      const { actions, ...macro } = fields
      const id = (await m.insert(Macro, { ...macro, createdAt: now, updatedAt: now })).identifiers[0].id as number
      await insertActions(m, id, actions)
      return id
    }))
  }

  /** False when the new name is taken. `actions`, when given, replace the old ones. */
  async update (id: number, patch: Partial<MacroFields>, now: number): Promise<boolean> {
    if (patch.name !== undefined && await this.nameTaken(patch.name, id)) return false
    return await unlessDuplicate(async () => await this.ds.transaction(async m => {
      const { actions, ...macro } = patch
      await m.update(Macro, { id }, { ...macro, updatedAt: now })
      if (actions !== undefined) {
        await m.delete(MacroAction, { macroId: id })
        await insertActions(m, id, actions)
      }
      return true
    })) ?? false
  }

  /** True when a macro was deleted (its actions and runs with it). */
  async delete (id: number): Promise<boolean> {
    return ((await this.ds.getRepository(Macro).delete({ id })).affected ?? 0) > 0
  }

  /** A page of a macro's runs, newest first. */
  async runs (macroId: number, page: { limit: number, offset: number }): Promise<{ rows: MacroRun[], total: number }> {
    const [rows, total] = await this.ds
      .getRepository(MacroRun)
      .findAndCount({
        where: { macroId },
        order: { startedAt: 'DESC', id: 'DESC' },
        skip: page.offset,
        take: page.limit
      })
    return { rows, total }
  }

  private async nameTaken (name: string, exceptId?: number): Promise<boolean> {
    return await this.ds
      .getRepository(Macro)
      .exists({ where: { name, ...(exceptId === undefined ? {} : { id: Not(exceptId) }) } })
  }

  async startRun (run: Pick<MacroRun, 'macroId' | 'startedAt' | 'username' | 'source'>): Promise<number> {
    const result = await this.ds.getRepository(MacroRun).insert({ ...run, status: 'running', currentStep: 0 })
    return result.identifiers[0].id as number
  }

  async updateRun (
    id: number,
    patch: Partial<Pick<MacroRun, 'status' | 'finishedAt' | 'currentStep' | 'message'>>
  ): Promise<void> {
    await this.ds.getRepository(MacroRun).update({ id }, patch)
  }

  async run (id: number): Promise<MacroRun | null> {
    return await this.ds.getRepository(MacroRun).findOne({ where: { id } })
  }

  /** Runs left 'running' by a process that stopped or died: recorded as interrupted, never resumed (issue 14). */
  async abandonRunning (now: number): Promise<MacroRun[]> {
    const repo = this.ds.getRepository(MacroRun)
    const running = await repo.find({ where: { status: 'running' as MacroRunStatus }, order: { id: 'ASC' } })
    if (running.length === 0) return []
    await repo.update(
      { id: In(running.map(r => r.id)) },
      { status: 'interrupted', finishedAt: now, message: 'gateway restarted during the run' }
    )
    return running
  }

  async latestTelemetry (uuid: string, key: string): Promise<number | undefined> {
    const device = await this.ds.getRepository(Device).findOne({ where: { uuid }, select: { id: true } })
    if (device === null) return undefined
    const row = await this.ds
      .getRepository(TelemetryData)
      .findOne({ where: { deviceId: device.id, key }, order: { ts: 'DESC' } })
    return row?.value ?? undefined
  }
}

async function insertActions (m: EntityManager, macroId: number, actions: NewMacroAction[]): Promise<void> {
  if (actions.length === 0) return
  await m.insert(
    MacroAction,
    actions.map((a, i) => ({
      macroId,
      position: i + 1,
      actionType: a.type,
      params: a.params,
      condition: a.condition ?? null
    })) as Array<QueryDeepPartialEntity<MacroAction>>
  )
}

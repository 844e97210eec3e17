import type { DataSource } from 'typeorm'
import { Device, Macro, MacroAction, MacroRun, TelemetryData, type MacroRunStatus } from '../../../entities/index.js'

/** `macros`, `macro_actions`, `macro_runs`, and the telemetry a condition reads. */
export class MacrosRepository {
  constructor (private readonly ds: DataSource) {}

  async macro (id: number): Promise<{ macro: Macro, actions: MacroAction[] } | undefined> {
    const macro = await this.ds.getRepository(Macro).findOne({ where: { id } })
    if (macro === null) return undefined
    const actions = await this.ds.getRepository(MacroAction).find({ where: { macroId: id }, order: { position: 'ASC', id: 'ASC' } })
    return { macro, actions }
  }

  async startRun (run: Pick<MacroRun, 'macroId' | 'startedAt' | 'username' | 'source'>): Promise<number> {
    const result = await this.ds.getRepository(MacroRun).insert({ ...run, status: 'running', currentStep: 0 })
    return result.identifiers[0].id as number
  }

  async updateRun (id: number, patch: Partial<Pick<MacroRun, 'status' | 'finishedAt' | 'currentStep' | 'message'>>): Promise<void> {
    await this.ds.getRepository(MacroRun).update({ id }, patch)
  }

  async run (id: number): Promise<MacroRun | null> {
    return await this.ds.getRepository(MacroRun).findOne({ where: { id } })
  }

  /** Runs left 'running' by a process that died: they cannot be resumed. */
  async abandonRunning (now: number): Promise<number> {
    const r = await this.ds.getRepository(MacroRun).update({ status: 'running' as MacroRunStatus }, { status: 'failed', finishedAt: now, message: 'gateway restarted during the run' })
    return r.affected ?? 0
  }

  async latestTelemetry (uuid: string, key: string): Promise<number | undefined> {
    const device = await this.ds.getRepository(Device).findOne({ where: { uuid }, select: { id: true } })
    if (device === null) return undefined
    const row = await this.ds.getRepository(TelemetryData).findOne({ where: { deviceId: device.id, key }, order: { ts: 'DESC' } })
    return row?.value ?? undefined
  }
}

import type { CommandSource, MacroAction, MacroRunStatus } from '../../entities/index.js'
import type { Timer } from '../clock.js'
import type { Service } from '../context.js'
import type { Services } from './index.js'
import { GatewayError } from '../errors.js'
import type { Actor } from '../auth/actor.js'
import type { Logger } from '../log.js'
import type { EmergencyLatch } from './emergency-latch.js'
import { assertMacroAction } from './macro-schema.js'
import { conditionHolds, performStep, type StepDeps } from './macro-steps.js'

/** With `actor`, the run (or its refusal) is journaled before its first step. */
export interface MacroRunRequest { macroId: number, user?: string, source: CommandSource, actor?: Actor }
export interface StartedRun { runId: number, done: Promise<MacroRunStatus> }

interface Run {
  macroId: number
  runId?: number
  cancelled?: string
  timer?: Timer
  /** Settles when the run is cancelled: every awaited step races it. */
  cancelledSignal: Promise<'cancelled'>
  cancel: (reason: string) => void
  /** Settles once the run has stopped (finished, failed, cancelled, or never started). */
  stopped: Promise<void>
  markStopped: () => void
}

/**
 * Macros (SPEC §4): ordered actions with optional conditions, one run per macro at a time, cancellable, progress as
 * `macro_progress` events, every run cancelled by an emergency stop. Runs are rows in `macro_runs`.
 */
export class MacroService implements Service {
  readonly name = 'macros'
  private readonly log: Logger
  private readonly runs = new Map<number, Run>()
  private stopping = false

  constructor (
    private readonly ctx: Services,
    private readonly emergency: EmergencyLatch
  ) {
    this.log = ctx.log.child({ module: 'macros' })
  }

  async start (): Promise<void> {
    // A run's steps lived in memory: what it had done stays done (a relay it turned on is reconciled like any
    // other), what it had not done is never done. Each run is recorded as interrupted, with its step.
    const abandoned = await this.ctx.repos.macros.abandonRunning(this.ctx.clock.now())
    if (abandoned.length > 0) this.log.warn({ abandoned: abandoned.length }, 'macro runs interrupted by a restart')
    for (const run of abandoned) {
      await this.ctx.events.log({
        level: 'warning',
        type: 'macro_progress',
        source: 'gateway',
        action: 'interrupted',
        target: `macro:${run.macroId}`,
        username: run.username ?? undefined,
        payload: {
          macro_id: run.macroId,
          run_id: run.id,
          status: 'interrupted',
          step: run.currentStep,
          message: 'gateway restarted during the run'
        }
      })
    }
  }

  /** Runs still going are stopped and recorded as interrupted, as after a crash (never resumed at the next start). */
  async stop (): Promise<void> {
    this.stopping = true
    const runs = [...this.runs.values()]
    await this.cancelAll('gateway stopping')
    await Promise.all(runs.map(r => r.stopped))
  }

  isRunning (macroId: number): boolean { return this.runs.has(macroId) }

  /** Starts a run; refused (GatewayError) during an emergency, for an unknown or disabled macro, or while it runs. */
  async run (req: MacroRunRequest): Promise<StartedRun> {
    const what = { action: 'macro.run', target: `macro:${req.macroId}` }
    try {
      return await this.runNow(req, what)
    } catch (err) {
      if (req.actor !== undefined) await this.ctx.journal.refused(req.actor, what, err)
      throw err
    }
  }

  private async runNow (req: MacroRunRequest, what: { action: string, target: string }): Promise<StartedRun> {
    if (this.emergency.active) {
      throw new GatewayError('GW_ERR_EMERGENCY_ACTIVE', 'emergency stop active: macros are refused')
    }
    if (this.runs.has(req.macroId)) {
      throw new GatewayError('GW_ERR_MACRO_RUNNING', `macro ${req.macroId} is already running`)
    }
    const run = newRun(req.macroId)
    // Reserved before the first await, so two simultaneous requests cannot both start.
    this.runs.set(req.macroId, run)
    try {
      const found = await this.ctx.repos.macros.macro(req.macroId)
      if (found === undefined) throw new GatewayError('GW_ERR_MACRO_NOT_FOUND', `no macro ${req.macroId}`)
      if (!found.macro.enabled) throw new GatewayError('GW_ERR_MACRO_DISABLED', `macro ${req.macroId} is disabled`)
      run.runId = await this.ctx.repos.macros.startRun({
        macroId: req.macroId,
        startedAt: this.ctx.clock.now(),
        username: req.user ?? null,
        source: req.source
      })
      // Before the first step: every command the run sends follows its journal row.
      if (req.actor !== undefined) {
        await this.ctx.journal.accepted(req.actor, { ...what, params: { run_id: run.runId } })
      }
      await this.progress(run, 'started', { name: found.macro.name, steps: found.actions.length }, req.user)
      return { runId: run.runId, done: this.execute(run, found.actions, req.user) }
    } catch (err) {
      this.runs.delete(req.macroId)
      run.markStopped()
      throw err
    }
  }

  /** Cancels the running run of a macro; false when none runs. */
  cancel (macroId: number, reason = 'cancelled'): boolean {
    const run = this.runs.get(macroId)
    if (run === undefined) return false
    run.cancel(reason)
    return true
  }

  /** Cancels the running run of a macro and waits until it has stopped; its run id, or undefined when none ran. */
  async cancelAndWait (macroId: number, reason = 'cancelled', actor?: Actor): Promise<number | undefined> {
    const run = this.runs.get(macroId)
    if (actor !== undefined) {
      await this.ctx.journal.accepted(actor, {
        action: 'macro.cancel',
        target: `macro:${macroId}`,
        params: { running: run !== undefined, ...(run?.runId === undefined ? {} : { run_id: run.runId }) }
      })
    }
    if (run === undefined) return undefined
    run.cancel(reason)
    await run.stopped
    return run.runId
  }

  async cancelAll (reason: string): Promise<void> {
    for (const run of this.runs.values()) run.cancel(reason)
  }

  private async execute (run: Run, actions: MacroAction[], username?: string): Promise<MacroRunStatus> {
    const deps: StepDeps = {
      ctx: this.ctx,
      relays: this.ctx.relays,
      commands: this.ctx.commands,
      repo: this.ctx.repos.macros,
      username,
      sleep: ms => this.sleep(run, ms)
    }
    let status: MacroRunStatus = 'completed'
    let message: string | null = null
    for (let i = 0; i < actions.length && status === 'completed'; i++) {
      const action = actions[i]
      try {
        await this.ctx.repos.macros.updateRun(run.runId as number, { currentStep: i + 1 })
        assertMacroAction(action)
        const holds = await Promise.race([conditionHolds(action.condition, deps), run.cancelledSignal])
        if (holds === 'cancelled') break
        if (!holds) {
          await this.progress(run, 'step', { step: i + 1, type: action.actionType, status: 'skipped' }, username)
          continue
        }
        if (await Promise.race([performStep(action, deps), run.cancelledSignal]) === 'cancelled') break
        await this.progress(run, 'step', { step: i + 1, type: action.actionType, status: 'done' }, username)
      } catch (err) {
        status = 'failed'
        message = `step ${i + 1} (${action.actionType}): ${(err as Error).message}`
      }
    }
    if (run.cancelled !== undefined) {
      status = this.stopping ? 'interrupted' : 'cancelled'
      message = run.cancelled
    }
    run.timer?.cancel()
    await this.ctx.repos.macros.updateRun(run.runId as number, { status, message, finishedAt: this.ctx.clock.now() })
    this.runs.delete(run.macroId)
    run.markStopped()
    await this.progress(run, status, message === null ? {} : { message }, username)
    return status
  }

  private async sleep (run: Run, ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      run.timer = this.ctx.clock.setTimeout(resolve, ms)
      void run.cancelledSignal.then(() => resolve())
    })
  }

  private async progress (run: Run, status: string, extra: Record<string, unknown>, username?: string): Promise<void> {
    await this.ctx.events.log({
      level: status === 'failed' ? 'error' : status === 'cancelled' ? 'warning' : 'info',
      type: 'macro_progress',
      source: 'gateway',
      action: status,
      target: `macro:${run.macroId}`,
      username,
      payload: { macro_id: run.macroId, run_id: run.runId, status, ...extra }
    })
  }
}

function newRun (macroId: number): Run {
  let cancel!: (reason: string) => void
  const run = { macroId } as Run
  run.cancelledSignal = new Promise<'cancelled'>(resolve => {
    cancel = reason => {
      run.cancelled ??= reason
      run.timer?.cancel()
      resolve('cancelled')
    }
  })
  run.cancel = cancel
  run.stopped = new Promise<void>(resolve => { run.markStopped = resolve })
  return run
}

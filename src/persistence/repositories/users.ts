import type { DataSource, EntityManager, Repository } from 'typeorm'
import { User, type UserRole } from '../../../entities/user.js'
import { forPostgres, query } from './sql.js'

/** `revokeTokens`: bump token_version, so every login token issued before stops working. */
export interface UserPatch { enabled?: boolean, role?: UserRole, passwordHash?: string, revokeTokens?: boolean }
export type GuardedOutcome = 'done' | 'not_found' | 'last_admin'

/**
 * The row is an enabled admin and no other enabled admin exists: removing it would leave nobody to manage the gateway.
 */
const IS_LAST_ADMIN =
  "role = 'admin' AND enabled = TRUE AND NOT EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.enabled = " +
    'TRUE AND o.id <> users.id)'
const COLUMNS: Record<Exclude<keyof UserPatch, 'revokeTokens'>, string> = {
  enabled: 'enabled',
  role: 'role',
  passwordHash: 'password_hash'
}

/** The only code touching TypeORM for `users`. */
export class UsersRepository {
  private readonly repo: Repository<User>
  constructor (private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(User)
  }

  async byUsername (username: string): Promise<User | undefined> {
    return (await this.repo.findOneBy({ username })) ?? undefined
  }

  async list (): Promise<User[]> {
    return await this.repo.find({ order: { id: 'ASC' } })
  }

  /** Every user's name, role and whether it is enabled: what the live connections are rechecked against. */
  async access (): Promise<Array<{ username: string, role: UserRole, enabled: boolean, tokenVersion: number }>> {
    const rows = await query<{
      username: string
      role: UserRole
      enabled: boolean | number
      token_version: number | string
    }>(this.dataSource, 'SELECT username, role, enabled, token_version FROM users', [])
    return rows.map(r => ({
      username: r.username,
      role: r.role,
      enabled: Boolean(r.enabled),
      tokenVersion: Number(r.token_version)
    }))
  }

  async count (): Promise<number> {
    return await this.repo.count()
  }

  async create (u: { username: string, role: UserRole, passwordHash: string }, now: number): Promise<User> {
    return await this.repo.save(
      this.repo.create({ ...u, enabled: true, createdAt: now, updatedAt: now, lastLoginAt: null, tokenVersion: 0 })
    )
  }

  /** True when the user exists. */
  async update (username: string, patch: UserPatch & { lastLoginAt?: number }, now: number): Promise<boolean> {
    const { revokeTokens, ...fields } = patch
    const res = await this.repo.update(
      { username },
      { ...fields, updatedAt: now, ...(revokeTokens === true ? { tokenVersion: () => 'token_version + 1' } : {}) }
    )
    return (res.affected ?? 0) > 0
  }

  /** Updates the user unless that disables or demotes the last enabled admin (checked in the same statement). */
  async guardedUpdate (username: string, patch: UserPatch, now: number): Promise<GuardedOutcome> {
    const removesAdmin = patch.enabled === false || (patch.role !== undefined && patch.role !== 'admin')
    if (!removesAdmin) return await this.update(username, patch, now) ? 'done' : 'not_found'
    const fields = (Object.keys(COLUMNS) as Array<keyof typeof COLUMNS>).filter(k => patch[k] !== undefined)
    const set = [
      ...fields.map(k => `${COLUMNS[k]} = ?`),
      'updated_at = ?',
      ...(patch.revokeTokens === true ? ['token_version = token_version + 1'] : [])
    ].join(', ')
    return await this.guarded(
      `UPDATE users SET ${set} WHERE username = ? AND NOT (${IS_LAST_ADMIN})`,
      [...fields.map(k => patch[k]), now, username],
      username
    )
  }

  /** Deletes the user unless it is the last enabled admin (checked in the same statement). */
  async guardedDelete (username: string): Promise<GuardedOutcome> {
    return await this.guarded(`DELETE FROM users WHERE username = ? AND NOT (${IS_LAST_ADMIN})`, [username], username)
  }

  /**
   * One statement whose WHERE refuses the last admin. On SQLite a statement is atomic across processes (the CLI
   * too); on PostgreSQL the enabled admins are locked first, so two concurrent demotions serialize.
   */
  private async guarded (sql: string, params: unknown[], username: string): Promise<GuardedOutcome> {
    const run = async (m: EntityManager): Promise<number> => {
      const qr = m.queryRunner ?? this.dataSource.createQueryRunner()
      const res = (await qr.query(m.connection.options.type === 'postgres' ? forPostgres(sql) : sql, params, true)) as {
        affected?: number
      }
      return res.affected ?? 0
    }
    const affected = this.dataSource.options.type === 'postgres'
      ? await this.dataSource.transaction(async m => {
        await m.query("SELECT id FROM users WHERE role = 'admin' AND enabled = TRUE FOR UPDATE")
        return await run(m)
      })
      : await run(this.dataSource.manager)
    if (affected > 0) return 'done'
    return await this.byUsername(username) === undefined ? 'not_found' : 'last_admin'
  }
}
